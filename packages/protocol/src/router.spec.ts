import { Scope, type CommandHook, type CommandSpec, type CommandTable } from './command';
import { RespConnection } from './connection';
import { ReplyError } from './errors';
import { CommandRouter } from './router';
import { createRespServer, type RespServer, type ServerConnection } from './server';
import { OK, SimpleString, type Reply } from './types';

interface Context {
  readonly data: Map<string, string>;
}

const GET: CommandSpec<Context> = {
  scope: Scope.client,
  arity: [1, 1],
  usage: 'GET key',
  reply: 'the value, or null',
  run: (args, context) => context.data.get(String(args[1])) ?? null,
};

const TABLE: CommandTable<Context> = {
  PUT: {
    scope: Scope.client,
    arity: [2, 2],
    usage: 'PUT key value',
    aliases: ['SET'],
    reply: '`+OK`',
    run(args, context) {
      context.data.set(String(args[1]), String(args[2]));
      return OK;
    },
  },
  GET,
  REPLICATE: {
    scope: Scope.peer,
    arity: [0, Infinity],
    usage: 'REPLICATE [record ...]',
    reply: 'integer: records applied',
    errors: '`-ERR` for a record that does not parse',
    run: (args) => args.length - 1,
  },
};

const connection: ServerConnection = {
  id: 1,
  remoteAddress: '127.0.0.1:1',
  readPath: 'stream',
  locals: {},
  close: () => undefined,
  priority: false,
  prioritize: () => undefined,
};

function call(router: CommandRouter<Context>, ...args: string[]): Reply | Promise<Reply> {
  return router.dispatch(
    args.map((a) => Buffer.from(a)),
    { data: new Map() },
    connection,
  );
}

function errorOf(router: CommandRouter<Context>, ...args: string[]): string {
  const reply = call(router, ...args);
  if (!(reply instanceof ReplyError)) throw new Error(`expected an error, got ${String(reply)}`);
  return reply.message;
}

describe('CommandRouter', () => {
  it('finds commands and their aliases in any case', () => {
    const router = new CommandRouter(TABLE);
    expect(call(router, 'put', 'k', 'v')).toBe(OK);
    expect(call(router, 'Set', 'k', 'v')).toBe(OK);
    expect(router.lookup('set')?.canonical).toBe('PUT');
    expect(router.names).toEqual(['PUT', 'SET', 'GET', 'REPLICATE', 'HELP', 'COMMAND']);
  });

  it('tells apart names that differ only inside, however often each was routed', () => {
    const router = new CommandRouter(TABLE);
    for (let i = 0; i < 3; i++) {
      expect(call(router, 'SET', 'k', 'v')).toBe(OK);
      // Same length, same first and last bytes as a name routed just before.
      expect(errorOf(router, 'SAT', 'k', 'v')).toBe("ERR unknown command 'SAT'");
      expect(call(router, 'GET', 'k')).toBeNull();
      expect(errorOf(router, 'GXT', 'k')).toBe("ERR unknown command 'GXT'");
      expect(call(router, 'gEt', 'k')).toBeNull();
    }
    expect(errorOf(router, '', 'k')).toBe("ERR unknown command ''");
  });

  it('answers a name no command has, Object.prototype names included, as unknown', () => {
    const router = new CommandRouter(TABLE);
    expect(errorOf(router, 'FLY', 'me')).toBe("ERR unknown command 'FLY'");
    expect(errorOf(router, 'constructor')).toBe("ERR unknown command 'constructor'");
    expect(errorOf(router, '__proto__')).toBe("ERR unknown command '__proto__'");
    expect(errorOf(router, 'x'.repeat(100))).toBe(`ERR unknown command '${'x'.repeat(61)}...'`);
  });

  it('answers a wrong number of arguments with the usage, worded as the server chose', () => {
    expect(errorOf(new CommandRouter(TABLE), 'get')).toBe(
      "WRONGARGS wrong number of arguments for 'get': usage GET key",
    );
    expect(errorOf(new CommandRouter(TABLE, { usagePrefix: '' }), 'SET', 'k')).toBe(
      "WRONGARGS wrong number of arguments for 'SET': PUT key value",
    );
  });

  it('runs the hooks in order before the command, with the name it was called by', () => {
    const seen: string[] = [];
    const first: CommandHook = (command) => seen.push(`first ${command.name}`);
    const router = new CommandRouter(TABLE, { hooks: [first] });
    router.addHook((command, args) =>
      seen.push(`second ${command.canonical} ${command.spec.scope} ${args.length}`),
    );
    void call(router, 'set', 'k', 'v');
    void call(router, 'GET');
    void call(router, 'NOPE');
    expect(seen).toEqual(['first SET', 'second PUT client 3']);
  });

  it('does not run the command when a hook refuses it', () => {
    const router = new CommandRouter(TABLE, {
      hooks: [
        (command) => {
          if (command.spec.scope !== Scope.client)
            throw new ReplyError('NOAUTH peer commands need the cluster secret');
        },
      ],
    });
    expect(() => call(router, 'REPLICATE', 'r')).toThrow('NOAUTH peer commands');
    expect(call(router, 'GET', 'k')).toBeNull();
  });

  it('refuses a table that declares a name twice or not in upper case', () => {
    expect(() => new CommandRouter({ ...TABLE, SET: GET })).toThrow(
      'command name SET is declared twice',
    );
    expect(() => new CommandRouter({ get: GET })).toThrow('command name get must be upper case');
  });
});

describe('HELP and COMMAND', () => {
  const router = new CommandRouter(TABLE);

  it('lists every command with its scope, and details one', () => {
    expect(call(router, 'HELP')).toEqual([
      'PUT key value  (client; alias SET)',
      'GET key  (client)',
      'REPLICATE [record ...]  (peer)',
      'HELP [command]  (client)',
      'COMMAND [COUNT|LIST]  (client)',
    ]);
    expect(call(router, 'help', 'set')).toEqual([
      'PUT key value  (client; alias SET)',
      'reply: +OK',
    ]);
    expect(call(router, 'HELP', 'REPLICATE')).toEqual([
      'REPLICATE [record ...]  (peer)',
      'reply: integer: records applied',
      'errors: -ERR for a record that does not parse',
    ]);
    expect(() => call(router, 'HELP', 'FLY')).toThrow("ERR unknown command 'FLY'");
  });

  it('answers COMMAND and COMMAND DOCS with empty arrays, COUNT and LIST from the table', () => {
    expect(call(router, 'COMMAND')).toEqual([]);
    expect(call(router, 'COMMAND', 'DOCS')).toEqual([]);
    expect(call(router, 'command', 'count')).toBe(6);
    expect(call(router, 'COMMAND', 'LIST')).toEqual(router.names);
  });

  it('leaves a command of the table in place of its own', () => {
    const own = new CommandRouter({ ...TABLE, HELP: { ...GET, usage: 'X' } });
    expect(own.lookup('HELP')?.spec.usage).toBe('X');
    expect(own.commands.map((c) => c.name)).toEqual(['PUT', 'GET', 'REPLICATE', 'HELP', 'COMMAND']);
  });
});

describe('CommandRouter behind a RESP server', () => {
  let server: RespServer | undefined;
  let client: RespConnection | undefined;
  afterEach(async () => {
    client?.destroy();
    await server?.close(100);
  });

  it('answers what a hook throws as an error reply and keeps the connection', async () => {
    const context: Context = { data: new Map() };
    const router = new CommandRouter(TABLE, {
      hooks: [
        (command, _args, conn) => {
          if (command.spec.scope === Scope.peer && conn.locals['peer'] !== true)
            throw new ReplyError('NOAUTH this connection is not a peer');
        },
      ],
    });
    server = createRespServer({ handler: (args, conn) => router.dispatch(args, context, conn) });
    const { port } = await server.listen(0, '127.0.0.1');
    client = await RespConnection.connect({ port });
    await expect(client.send(['REPLICATE', 'r'])).rejects.toThrow('NOAUTH this connection');
    expect(await client.send(['SET', 'k', 'v'])).toEqual(new SimpleString('OK'));
    expect(String(await client.send(['GET', 'k']))).toBe('v');
  });
});
