import { AccessControl, AUTH_COMMANDS, type AuthContext, type AuthFailure } from './access-control';
import { handshakeFor, memberHandshake } from './auth-handshake';
import { Access, Scope, type CommandTable } from './command';
import { RespConnection } from './connection';
import { AuthenticationError, ReplyError } from './errors';
import { memberProof } from './member-auth';
import { CommandRouter } from './router';
import { createRespServer, type RespServer } from './server';
import { OK, SimpleString } from './types';
import { UserTable, parseUsers } from './users';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');

interface Context extends AuthContext {
  readonly data: Map<string, string>;
}

const TABLE: CommandTable<Context> = {
  GET: {
    scope: Scope.client,
    access: Access.read,
    arity: [1, 1],
    usage: 'GET key',
    reply: 'value',
    run: (args, ctx) => ctx.data.get(String(args[1])) ?? null,
  },
  PUT: {
    scope: Scope.client,
    arity: [2, 2],
    usage: 'PUT key value',
    reply: '`+OK`',
    run(args, ctx) {
      ctx.data.set(String(args[1]), String(args[2]));
      return OK;
    },
  },
  PING: {
    scope: Scope.client,
    access: Access.open,
    arity: [0, 0],
    usage: 'PING',
    reply: 'PONG',
    run: () => 'PONG',
  },
  REPLICATE: {
    scope: Scope.peer,
    arity: [2, 2],
    usage: 'REPLICATE key value',
    reply: '`+OK`',
    run(args, ctx) {
      ctx.data.set(String(args[1]), String(args[2]));
      return OK;
    },
  },
  LEAVE: {
    scope: Scope.admin,
    arity: [0, 0],
    usage: 'LEAVE',
    reply: '`+OK`',
    run(_args, ctx) {
      ctx.data.set('left', 'yes');
      return OK;
    },
  },
  ...AUTH_COMMANDS,
};

const USERS = new UserTable(
  parseUsers(
    'reader read-only >r-pass\nwriter read-write >w-pass\nboss admin >b-pass\ndefault read-write >d-pass',
  ),
);

let server: RespServer | undefined;
const connections: RespConnection[] = [];

afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  await server?.close(100);
  server = undefined;
});

async function serve(options: ConstructorParameters<typeof AccessControl>[0]): Promise<{
  port: number;
  data: Map<string, string>;
  failures: AuthFailure[];
}> {
  const failures: AuthFailure[] = [];
  const access = new AccessControl({ ...options, onFailure: (kind) => failures.push(kind) });
  const context: Context = { access, data: new Map() };
  const router = new CommandRouter(TABLE, { hooks: [access.hook] });
  server = createRespServer({ handler: (args, c) => router.dispatch(args, context, c) });
  const { port } = await server.listen(0, '127.0.0.1');
  return { port, data: context.data, failures };
}

async function connect(
  port: number,
  handshake?: Parameters<typeof RespConnection.connect>[0]['handshake'],
): Promise<RespConnection> {
  const c = await RespConnection.connect({ port, host: '127.0.0.1', handshake });
  connections.push(c);
  return c;
}

/** The reply as text: a simple string's value, a bulk string's UTF-8, or null. */
async function text(c: RespConnection, args: string[]): Promise<string | null> {
  const reply = await c.send(args);
  if (reply === null) return null;
  return reply instanceof SimpleString ? reply.value : String(reply);
}

function refusal(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    (value) => `no refusal: ${String(value)}`,
    (err: unknown) => (err instanceof ReplyError ? err.message : String(err)),
  );
}

describe('AccessControl without a secret or users', () => {
  it('lets every command through, as before authentication existed', async () => {
    const { port, data } = await serve({});
    const c = await connect(port);
    expect(await text(c, ['REPLICATE', 'k', 'v'])).toBe('OK');
    expect(await text(c, ['LEAVE'])).toBe('OK');
    expect(await text(c, ['PUT', 'a', 'b'])).toBe('OK');
    expect(data.get('k')).toBe('v');
    // Clients holding credentials carry on, as such a server asks for none.
    const member = await connect(port, memberHandshake(SECRET));
    expect(await text(member, ['LEAVE'])).toBe('OK');
    const user = await connect(port, handshakeFor({ password: 'pw' }));
    expect(await text(user, ['GET', 'k'])).toBe('v');
    expect(await refusal(c.send(['AUTH', 'pw']))).toMatch(
      /^ERR AUTH <password> called without any password configured/,
    );
  });
});

describe('AccessControl with a cluster secret', () => {
  it('refuses peer and admin commands until the member challenge is answered', async () => {
    const { port, data } = await serve({ clusterSecret: SECRET });
    const c = await connect(port);
    expect(await refusal(c.send(['REPLICATE', 'k', 'v']))).toMatch(
      /^NOAUTH 'REPLICATE' is for cluster members/,
    );
    expect(await refusal(c.send(['LEAVE']))).toMatch(/^NOAUTH 'LEAVE' is for cluster members/);
    expect(data.size).toBe(0);
    // Client commands stay open while no users are configured.
    expect(await text(c, ['PUT', 'a', 'b'])).toBe('OK');
    const member = await connect(port, memberHandshake(SECRET));
    expect(await text(member, ['REPLICATE', 'k', 'v'])).toBe('OK');
    expect(await text(member, ['LEAVE'])).toBe('OK');
    expect(data.get('k')).toBe('v');
  });

  it('refuses a proof made with another secret, and counts it', async () => {
    const { port, data, failures } = await serve({ clusterSecret: SECRET });
    const attempt = RespConnection.connect({
      port,
      handshake: memberHandshake(Buffer.from('not the secret, but long enough')),
    });
    await expect(attempt).rejects.toThrow(AuthenticationError);
    await expect(attempt).rejects.toThrow(/member proof does not match/);
    expect(failures).toEqual(['member']);
    expect(data.size).toBe(0);
  });

  it('refuses a proof replayed on another connection, or twice on the same one', async () => {
    const { port, data } = await serve({ clusterSecret: SECRET });
    const first = await connect(port);
    const nonce = String(await text(first, ['AUTH_CHALLENGE']));
    const proof = memberProof(SECRET, nonce);
    expect(await text(first, ['AUTH_MEMBER', proof])).toBe('OK');
    // An eavesdropper who saw the exchange replays it on a connection of its own.
    const rogue = await connect(port);
    expect(await refusal(rogue.send(['AUTH_MEMBER', proof]))).toMatch(
      /^NOAUTH no challenge pending/,
    );
    await rogue.send(['AUTH_CHALLENGE']);
    expect(await refusal(rogue.send(['AUTH_MEMBER', proof]))).toMatch(
      /^NOAUTH member proof does not match/,
    );
    expect(await refusal(rogue.send(['REPLICATE', 'k', 'v']))).toMatch(/^NOAUTH/);
    // The nonce answers once, even on the connection it was issued to.
    const again = await connect(port);
    const nonce2 = String(await text(again, ['AUTH_CHALLENGE']));
    await refusal(again.send(['AUTH_MEMBER', 'wrong']));
    expect(await refusal(again.send(['AUTH_MEMBER', memberProof(SECRET, nonce2)]))).toMatch(
      /^NOAUTH no challenge pending/,
    );
    expect(data.size).toBe(0);
  });

  it('draws nonces from the injected random source, and verifies the HMAC of that nonce', async () => {
    const { port } = await serve({ clusterSecret: SECRET, random: (n) => Buffer.alloc(n, 0xab) });
    const c = await connect(port);
    const nonce = 'ab'.repeat(32);
    expect(await text(c, ['AUTH_CHALLENGE'])).toBe(nonce);
    expect(await text(c, ['AUTH_MEMBER', memberProof(SECRET, nonce)])).toBe('OK');
    expect(await text(c, ['REPLICATE', 'k', 'v'])).toBe('OK');
  });

  it('issues a fresh nonce for every challenge', async () => {
    const { port } = await serve({ clusterSecret: SECRET });
    const c = await connect(port);
    const nonces = new Set<string>();
    for (let i = 0; i < 20; i++) nonces.add(String(await text(c, ['AUTH_CHALLENGE'])));
    expect(nonces.size).toBe(20);
    for (const nonce of nonces) expect(nonce).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('AccessControl with users', () => {
  it('refuses client commands before AUTH, except the open ones', async () => {
    const { port, data } = await serve({ clusterSecret: SECRET, users: USERS });
    const c = await connect(port);
    expect(await refusal(c.send(['GET', 'a']))).toBe('NOAUTH Authentication required.');
    expect(await refusal(c.send(['PUT', 'a', 'b']))).toBe('NOAUTH Authentication required.');
    expect(await text(c, ['PING'])).toBe('PONG');
    expect(data.size).toBe(0);
  });

  it('refuses wrong passwords with WRONGPASS and counts them', async () => {
    const { port, failures } = await serve({ clusterSecret: SECRET, users: USERS });
    const c = await connect(port);
    const wrongpass = 'WRONGPASS invalid username-password pair or user is disabled.';
    expect(await refusal(c.send(['AUTH', 'writer', 'r-pass']))).toBe(wrongpass);
    expect(await refusal(c.send(['AUTH', 'nobody', 'w-pass']))).toBe(wrongpass);
    expect(await refusal(c.send(['AUTH', 'nope']))).toBe(wrongpass);
    expect(failures).toEqual(['password', 'password', 'password']);
    expect(await refusal(c.send(['GET', 'a']))).toBe('NOAUTH Authentication required.');
    expect(await text(c, ['AUTH', 'd-pass'])).toBe('OK');
    expect(await text(c, ['PUT', 'a', 'b'])).toBe('OK');
  });

  it('lets each permission run what it allows and answers NOPERM to the rest', async () => {
    const { port, data } = await serve({ clusterSecret: SECRET, users: USERS });
    const reader = await connect(port, handshakeFor({ user: 'reader', password: 'r-pass' }));
    expect(await text(reader, ['GET', 'a'])).toBeNull();
    expect(await refusal(reader.send(['PUT', 'a', 'b']))).toBe(
      "NOPERM User reader has no permissions to run the 'put' command",
    );
    const writer = await connect(port, handshakeFor({ user: 'writer', password: 'w-pass' }));
    expect(await text(writer, ['PUT', 'a', 'b'])).toBe('OK');
    expect(await refusal(writer.send(['LEAVE']))).toMatch(/^NOPERM User writer/);
    expect(await refusal(writer.send(['REPLICATE', 'k', 'v']))).toMatch(/^NOPERM User writer/);
    const boss = await connect(port, handshakeFor({ user: 'boss', password: 'b-pass' }));
    expect(await text(boss, ['LEAVE'])).toBe('OK');
    expect(await refusal(boss.send(['REPLICATE', 'k', 'v']))).toMatch(/^NOPERM User boss/);
    const member = await connect(port, handshakeFor({ clusterSecret: SECRET, password: 'x' }));
    expect(await text(member, ['PUT', 'c', 'd'])).toBe('OK');
    expect(await text(member, ['REPLICATE', 'k', 'v'])).toBe('OK');
    expect([...data.keys()].sort()).toEqual(['a', 'c', 'k', 'left']);
  });

  it('rejects a connection whose AUTH is refused with AuthenticationError', async () => {
    const { port } = await serve({ clusterSecret: SECRET, users: USERS });
    const attempt = RespConnection.connect({
      port,
      handshake: handshakeFor({ user: 'reader', password: 'w-pass' }),
    });
    await expect(attempt).rejects.toThrow(AuthenticationError);
    await expect(attempt).rejects.toThrow(/^authentication to 127\.0\.0\.1:\d+ failed: WRONGPASS/);
  });
});
