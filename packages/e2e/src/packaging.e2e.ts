import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Ring } from '@kv/ring';
import { packageDir } from './harness/bins';
import { freePortRange, HOST } from './harness/free-port';
import { ManagedProcess } from './harness/managed-process';
import { npm, npmOk, npmPack, userEnv, type PackResult } from './harness/npm';
import { descendantsOf, survivors } from './harness/pid-registry';
import { runCommand } from './harness/run-command';
import { waitFor } from './harness/wait';

const PUBLISHED = [
  '@kv/protocol',
  '@kv/ring',
  '@kv/coordinator',
  '@kv/node',
  '@kv/client',
  '@kv/cli',
] as const;

let root: string;
let packed: Map<string, PackResult>;

function tarball(name: string): string {
  return join(root, 'tarballs', (packed.get(name) as PackResult).filename);
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'kv-e2e-packaging-'));
  mkdirSync(join(root, 'tarballs'));
  packed = new Map();
  for (const name of PUBLISHED)
    packed.set(name, await npmPack(packageDir(name), join(root, 'tarballs')));
}, 120_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('published packages', () => {
  it('pack their built code, and no tests or build info', () => {
    for (const name of PUBLISHED) {
      const files = (packed.get(name) as PackResult).files.map((f) => f.path);
      expect({
        name,
        hasIndex: files.includes('dist/index.js'),
        hasTypes: files.includes('dist/index.d.ts'),
      }).toEqual({ name, hasIndex: true, hasTypes: true });
      expect({
        name,
        unwanted: files.filter((f) => /\.spec\.|tsbuildinfo|test-support/.test(f)),
      }).toEqual({
        name,
        unwanted: [],
      });
    }
  });

  it('install from tarballs into an empty folder and run a local cluster with npx kv', async () => {
    const app = join(root, 'app');
    mkdirSync(app);
    await npmOk(['init', '-y'], app, { timeoutMs: 60_000 });
    await npmOk(['install', '--no-audit', '--no-fund', ...PUBLISHED.map(tarball)], app, {
      timeoutMs: 300_000,
    });

    const base = await freePortRange(4);
    const coordinator = `${HOST}:${base}`;
    // kv cluster keeps its secret here, and kv finds it here, not in the user's ~/.kv.
    const secretEnv = { KV_CLUSTER_SECRET_FILE: join(app, 'cluster.secret') };
    const cluster = ManagedProcess.start({
      name: 'npx kv cluster',
      command: 'npx',
      args: ['kv', 'cluster', '--nodes', '3', '--base-port', String(base)],
      cwd: app,
      env: userEnv(secretEnv),
      processGroup: true,
    });
    await cluster.waitForLine(
      new RegExp(`^\\[Cluster\\] Ready: coordinator ${coordinator.replace(/\./g, '\\.')}\\b`),
      60_000,
    );
    // Its processes authenticate with a secret it generated, readable by its owner only.
    expect(statSync(secretEnv.KV_CLUSTER_SECRET_FILE).mode & 0o777).toBe(0o600);
    const tree = cluster.trackDescendants(descendantsOf(cluster.pid as number));
    // npx, the kv process, a coordinator and three nodes at least (npm may add a shell).
    expect(tree.length).toBeGreaterThanOrEqual(4);

    const put = await npmOk(['kv', '--coordinator', coordinator, '--command', 'PUT a b'], app, {
      npx: true,
      env: userEnv(secretEnv),
    });
    expect(put.stdout).toMatch(
      /^\[Client\] PUT a = b \[primary: 127\.0\.0\.1:\d+, replicas: \[.*\]\]$/m,
    );
    const get = await npm(['kv', '--command', 'GET a'], app, {
      npx: true,
      env: userEnv({ KV_COORDINATOR: coordinator, ...secretEnv }),
    });
    expect({ code: get.status.code, stdout: get.stdout }).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^\[Client\] GET a = b$/m) as unknown,
    });

    // SIGTERM to the process group, as a supervisor stopping the service does (npm itself
    // does not pass a SIGTERM on to the command it runs). kv has to stop its coordinator and
    // nodes itself: they run in process groups of their own.
    cluster.signalGroup('SIGTERM');
    const exit = await cluster.waitForExit(30_000);
    expect([
      JSON.stringify({ code: 0, signal: null }),
      JSON.stringify({ code: null, signal: 'SIGTERM' }),
    ]).toContain(JSON.stringify(exit));
    await cluster.waitForLine(/^\[Cluster\] Stopping \(SIGTERM\)$/, 10_000);
    await cluster.waitForLine(/^\[Cluster\] Stopped$/, 30_000);
    await waitFor(
      'every process of the cluster to exit',
      () => (survivors(tree).length === 0 ? true : undefined),
      { timeoutMs: 10_000 },
    );
    for (let port = base; port < base + 4; port++) expect(await portRefuses(port)).toBe(true);
  });

  it('let a script that depends on @kv/ring alone place keys, with require and with import', async () => {
    const app = join(root, 'ring-only');
    mkdirSync(app);
    await npmOk(['init', '-y'], app, { timeoutMs: 60_000 });
    await npmOk(['install', '--no-audit', '--no-fund', tarball('@kv/ring')], app, {
      timeoutMs: 120_000,
    });
    expect(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual([
      '@kv',
    ]);
    expect(readdirSync(join(app, 'node_modules', '@kv'))).toEqual(['ring']);

    writeFileSync(
      join(app, 'place.cjs'),
      "const { Ring } = require('@kv/ring');\n" +
        "console.log(JSON.stringify(new Ring(['a:1', 'b:2', 'c:3']).preferenceList('user:1', 3)));\n",
    );
    writeFileSync(
      join(app, 'place.mjs'),
      "import { Ring } from '@kv/ring';\n" +
        "console.log(JSON.stringify(new Ring(['a:1', 'b:2', 'c:3']).preferenceList('user:1', 3)));\n",
    );
    const expected = JSON.stringify(new Ring(['a:1', 'b:2', 'c:3']).preferenceList('user:1', 3));
    expect(JSON.parse(expected)).toHaveLength(3);
    for (const script of ['place.cjs', 'place.mjs']) {
      const result = await runCommand(
        {
          name: `node ${script}`,
          command: process.execPath,
          args: [script],
          cwd: app,
          env: userEnv(),
        },
        30_000,
      );
      expect({
        script,
        code: result.status.code,
        stdout: result.stdout,
        stderr: result.stderr,
      }).toEqual({
        script,
        code: 0,
        stdout: expected,
        stderr: '',
      });
    }
  });
});
