import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from 'node:net';
import { Ring } from '@kv/ring';
import { packageDir } from './harness/bins';
import { freePortRange, HOST } from './harness/free-port';
import { ManagedProcess } from './harness/managed-process';
import { npm, npmOk, userEnv } from './harness/npm';
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

/** The repository root, where `npm run release:pack` runs. */
const REPO = resolve(packageDir('@kv/cli'), '..', '..');

/** A release tarball: where it is and the files it holds (without tar's `package/`). */
interface Tarball {
  readonly path: string;
  readonly files: readonly string[];
}

let root: string;
let packed: Map<string, Tarball>;

function tarball(name: string): string {
  return (packed.get(name) as Tarball).path;
}

/** The files of a tarball, as `tar -tzf` lists them. */
async function tarFiles(path: string): Promise<string[]> {
  const listed = await runCommand(
    { name: `tar -tzf ${path}`, command: 'tar', args: ['-tzf', path] },
    30_000,
  );
  if (listed.status.code !== 0) throw new Error(listed.transcript);
  return listed.stdout.split('\n').map((f) => f.replace(/^package\//, ''));
}

/** Runs a server command with npx in `cwd` and waits for its start line. */
async function npxServer(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv) {
  const server = ManagedProcess.start({
    name: `npx kv ${args.join(' ')}`,
    command: 'npx',
    args: ['kv', ...args],
    cwd,
    env,
  });
  await server.waitForLine(/\] Started on 127\.0\.0\.1:\d+/, 60_000);
  return server;
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
  // As a release is made: the root script builds, then packs every published package.
  const release = await npmOk(
    ['run', 'release:pack', '--', '--out', join(root, 'tarballs')],
    REPO,
    { timeoutMs: 300_000, env: userEnv({ NX_DAEMON: 'false', NX_NO_CLOUD: 'true' }) },
  );
  packed = new Map();
  for (const [, name, path] of release.stdout.matchAll(/^(@kv\/[a-z]+)@[\d.]+: (\S+\.tgz)$/gm))
    packed.set(name as string, { path: path as string, files: await tarFiles(path as string) });
  expect([...packed.keys()].sort()).toEqual([...PUBLISHED].sort());
}, 300_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('published packages', () => {
  it('pack their built code, and no tests or build info', () => {
    for (const name of PUBLISHED) {
      const { files } = packed.get(name) as Tarball;
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

    // The command runs, and says its version.
    const cliVersion = (
      JSON.parse(readFileSync(join(packageDir('@kv/cli'), 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const version = await npmOk(['kv', '--version'], app, { npx: true });
    expect(version.stdout).toBe(cliVersion);

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

  it('stop kv node and kv coordinator run through npx on SIGTERM to npx, leaving no orphan', async () => {
    const app = join(root, 'app');
    // The previous test installed the tarballs here.
    expect(existsSync(join(app, 'node_modules', '.bin', 'kv'))).toBe(true);
    const env = userEnv({ KV_CLUSTER_SECRET_FILE: join(app, 'cluster.secret') });
    const [coordinatorPort, nodePort] = [await freePortRange(1), await freePortRange(1)];
    const coordinator = await npxServer(
      app,
      ['coordinator', '--host', HOST, '--port', String(coordinatorPort)],
      env,
    );
    const node = await npxServer(
      app,
      [
        'node',
        '--host',
        HOST,
        '--port',
        String(nodePort),
        '--coordinator',
        `${HOST}:${coordinatorPort}`,
      ],
      env,
    );
    for (const [server, port] of [
      [node, nodePort],
      [coordinator, coordinatorPort],
    ] as const) {
      const tree = server.trackDescendants(descendantsOf(server.pid as number));
      // npx, a shell and kv at least.
      expect(tree.length).toBeGreaterThanOrEqual(1);
      // To npx alone, as `kill <pid of npx>` does: npm does not pass it on.
      server.signal('SIGTERM');
      await server.waitForExit(30_000);
      await waitFor(
        `every process of ${server.name} to exit`,
        () => (survivors(tree).length === 0 ? true : undefined),
        { timeoutMs: 20_000 },
      );
      expect(await portRefuses(port)).toBe(true);
    }
  });

  it('refuse to pack a package that was not built', async () => {
    const unbuilt = join(root, 'unbuilt');
    mkdirSync(unbuilt);
    const manifest = JSON.parse(
      readFileSync(join(packageDir('@kv/ring'), 'package.json'), 'utf8'),
    ) as { scripts: Record<string, string> };
    manifest.scripts['prepack'] = `node ${join(REPO, 'tools', 'check-built.cjs')}`;
    writeFileSync(join(unbuilt, 'package.json'), JSON.stringify(manifest));
    const pack = await npm(['pack', '--pack-destination', unbuilt], unbuilt, { timeoutMs: 60_000 });
    expect(pack.status.code).not.toBe(0);
    expect(pack.stderr).toContain(
      '@kv/ring: ./dist/index.js, ./dist/index.d.ts missing: the package is not built. Run npm run release:pack',
    );
    expect(readdirSync(unbuilt).filter((f) => f.endsWith('.tgz'))).toEqual([]);
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
