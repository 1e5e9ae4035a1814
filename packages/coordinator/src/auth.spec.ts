import {
  Access,
  RespConnection,
  Scope,
  UserTable,
  memberHandshake,
  parseUsers,
} from '@kv/protocol';
import { createCoordinatorRouter } from './coordinator-commands';
import { runCli } from './cli';
import { protectedModeRefusal } from './access-config';
import { client, start } from './test-support/coordinator-harness';

const SECRET = Buffer.from('the coordinator test secret, 32 bytes');
/** Valid arguments where a command's shape matters, so only authentication can refuse. */
const SAMPLE_ARGS: Readonly<Record<string, string[]>> = {
  REGISTER_NODE: ['127.0.0.1', '7001'],
};

const commands = createCoordinatorRouter().commands;
const memberOnly = commands.filter((c) => c.spec.scope !== Scope.client);

describe('coordinator with a cluster secret', () => {
  it('declares admin commands for the table below to cover', () => {
    expect(memberOnly.map((c) => c.name)).toEqual(
      expect.arrayContaining(['REGISTER_NODE', 'HEARTBEAT', 'UNREGISTER_NODE', 'LEAVING']),
    );
  });

  it.each(memberOnly.map((c) => [c.name, c.spec.arity] as const))(
    'refuses %s without the secret or with a wrong one; membership is unchanged',
    async (name, arity) => {
      const coordinator = await start({ clusterSecret: SECRET });
      const member = await client(coordinator, SECRET);
      await member.send(['REGISTER_NODE', '127.0.0.1', '7001']);
      // A refused HEARTBEAT must not make the member look fresher either.
      const state = (): unknown => ({
        epoch: coordinator.epoch,
        members: coordinator.members().map(({ heartbeatAgeMs: _age, ...rest }) => rest),
      });
      const age = (): number => coordinator.members()[0]?.heartbeatAgeMs ?? -1;
      const before = state();
      const ageBefore = age();
      const args = SAMPLE_ARGS[name] ?? [
        '127.0.0.1',
        '7001',
        ...Array(Math.max(0, arity[0] - 2)).fill('x'),
      ];
      const anonymous = await client(coordinator);
      await expect(anonymous.send([name, ...args.slice(0, Math.max(arity[0], 2))])).rejects.toThrow(
        new RegExp(`^NOAUTH '${name}' is for cluster members`),
      );
      await expect(
        RespConnection.connect({
          port: coordinator.port,
          handshake: memberHandshake(Buffer.from('not the secret but 32 bytes long')),
        }),
      ).rejects.toThrow(/member proof does not match/);
      expect(state()).toEqual(before);
      expect(age()).toBeGreaterThanOrEqual(ageBefore);
      expect(String(await anonymous.send(['INFO']))).toMatch(/^acl_access_denied_auth:1\r$/m);
    },
  );

  it('requires AUTH for client commands when users are configured', async () => {
    const users = new UserTable(parseUsers('ops read-only >ops-pw'));
    const coordinator = await start({ clusterSecret: SECRET, users });
    const c = await client(coordinator);
    for (const command of commands.filter(
      (x) => x.spec.scope === Scope.client && x.spec.access !== Access.open,
    )) {
      await expect(
        c.send([command.name, ...Array(command.spec.arity[0]).fill('1')]),
      ).rejects.toThrow('NOAUTH Authentication required.');
    }
    await c.send(['AUTH', 'ops', 'ops-pw']);
    expect(await c.send(['LIST_NODES'])).toEqual([]);
    await expect(c.send(['REGISTER_NODE', '127.0.0.1', '7001'])).rejects.toThrow(
      /^NOPERM User ops/,
    );
    expect(coordinator.members()).toEqual([]);
  });
});

describe('protected mode', () => {
  const output = (): {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    text: () => string;
  } => {
    let text = '';
    const sink = {
      write: (chunk: string) => ((text += chunk), true),
    } as unknown as NodeJS.WritableStream;
    return { stdout: sink, stderr: sink, text: () => text };
  };

  it('refuses a non-loopback address without a secret, with a clear error and exit code 2', async () => {
    const out = output();
    const result = await runCli(['--host', '0.0.0.0', '--port', '0'], {}, out);
    expect(result).toBe(2);
    expect(out.text()).toMatch(
      /^kv-coordinator: protected mode: refusing to listen on 0\.0\.0\.0 without a cluster secret.*--insecure/,
    );
  });

  it('allows a non-loopback address with a secret or --insecure, and loopback always', () => {
    // Checked without binding: tests listen on 127.0.0.1 only.
    expect(
      protectedModeRefusal({ host: '10.0.0.5', clusterSecret: SECRET, insecure: false }),
    ).toBeUndefined();
    expect(protectedModeRefusal({ host: '0.0.0.0', insecure: true })).toBeUndefined();
    expect(protectedModeRefusal({ host: '127.0.0.1', insecure: false })).toBeUndefined();
    expect(protectedModeRefusal({ host: '::', insecure: false })).toMatch(/^protected mode/);
  });
});
