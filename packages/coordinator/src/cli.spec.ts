import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { RespConnection } from '@kv/protocol';
import { runCli, type CliOutput } from './cli';
import { Coordinator } from './coordinator';

let out: { output: CliOutput; stdout: () => string; stderr: () => string };
let running: Coordinator | undefined;
let dir: string | undefined;

function capture(): typeof out {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d: Buffer) => (o += d.toString()));
  stderr.on('data', (d: Buffer) => (e += d.toString()));
  return { output: { stdout, stderr }, stdout: () => o, stderr: () => e };
}

beforeEach(() => {
  out = capture();
});

afterEach(async () => {
  await running?.close();
  running = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('runCli', () => {
  it('prints --help on stdout and exits 0', async () => {
    expect(await runCli(['--help'], {}, out.output)).toBe(0);
    expect(out.stdout()).toContain('Usage: kv-coordinator [options]');
    expect(out.stdout()).toContain('--failure-timeout');
    expect(out.stderr()).toBe('');
  });

  it.each([
    [
      ['--port', '70000'],
      {},
      'kv-coordinator: --port must be an integer from 0 to 65535, got "70000"\n',
    ],
    [
      ['--failure-timeout', '-5'],
      {},
      'kv-coordinator: --failure-timeout must be an integer from 1 to 2147483647, got "-5"\n',
    ],
    [
      [],
      { KV_HEARTBEAT_INTERVAL: '5000' },
      'kv-coordinator: --failure-timeout (5000 ms) must be greater than KV_HEARTBEAT_INTERVAL (5000 ms), or live nodes would be declared dead between two heartbeats\n',
    ],
    [['--nope'], {}, 'kv-coordinator: Unknown argument: nope (see --help)\n'],
  ])('prints one line on stderr and exits 2 for %j %j', async (argv, env, message) => {
    expect(await runCli(argv, env, out.output)).toBe(2);
    expect(out.stderr()).toBe(message);
    expect(out.stdout()).toBe('');
  });

  it('exits 1 with one line when the state file is corrupt', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-coordinator-cli-'));
    await writeFile(join(dir, 'membership.json'), 'garbage');
    expect(await runCli(['--port', '0', '--data-dir', dir], {}, out.output)).toBe(1);
    expect(out.stderr()).toMatch(
      /^kv-coordinator: cannot load coordinator state from .*membership\.json: the state is not valid JSON .*Move the file aside.*\n$/,
    );
    expect(out.stderr().split('\n')).toHaveLength(2);
  });

  it('exits 1 with one line when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      expect(await runCli([], { KV_PORT: String(port) }, out.output)).toBe(1);
      expect(out.stderr()).toBe(
        `kv-coordinator: cannot listen on 127.0.0.1:${port} (EADDRINUSE): is another coordinator running there? Choose another --port\n`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('starts a coordinator with the configuration from flags and environment', async () => {
    const result = await runCli(
      ['--port', '0', '--log-level', 'error'],
      { KV_REPLICATION_FACTOR: '2', KV_PORT: '1' },
      out.output,
    );
    if (!(result instanceof Coordinator)) throw new Error(`expected a coordinator, got ${result}`);
    running = result;
    expect(result.config.replicationFactor).toBe(2);
    expect(result.ring.replicationFactor).toBe(2);
    const c = await RespConnection.connect({ port: result.port });
    try {
      expect(String(await c.send(['PING']))).toBe('PONG');
    } finally {
      c.destroy();
    }
  });
});
