import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FallbackEvent, NodeStatus } from '@kv/client';
import type { DataClient } from './command-runners';
import { HistoryFile } from './history';
import { Printer } from './printer';
import { PROMPT, runShell } from './shell';
import { closedPort, startTestCluster, type TestCluster } from './test-support/local-cluster';
import { linesOf, runKv } from './test-support/kv-binary';
import { waitFor } from './test-support/wait-for';

describe('the shell with piped input (the built kv)', () => {
  let cluster: TestCluster;
  beforeEach(async () => {
    cluster = await startTestCluster(3);
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('runs a session line by line, going on after errors', async () => {
    const input = [
      'PUT user:1 Alice Smith',
      'get user:1',
      '',
      'FROB user:1',
      'GET',
      'LIST_NODES',
      'delete user:1',
      'GET user:1',
      'EXIT',
      'GET user:1',
    ].join('\n');
    const { code, stdout, stderr } = await runKv(['--coordinator', cluster.address], { input });
    expect(code).toBe(0);
    const lines = linesOf(stdout);
    const ids = cluster.nodes.map((n) => n.id).sort();
    expect(lines[0]).toMatch(
      /^\[Client\] PUT user:1 = Alice Smith \[primary: \S+, replicas: \[\S+, \S+\]\]$/,
    );
    const primary = /primary: (\S+),/.exec(lines[0] ?? '')?.[1];
    expect(lines.slice(1)).toEqual([
      '[Client] GET user:1 = Alice Smith',
      'OK Nodes:',
      ...ids.map((id) => `  ${id}  up`),
      `[Client] DELETE user:1 [primary: ${primary}]`,
      '[Client] GET user:1 not found',
      'Goodbye!',
    ]);
    expect(linesOf(stderr)).toEqual([
      "kv: unknown command 'FROB' (commands: PUT, GET, DELETE, LIST_NODES, HELP, EXIT)",
      "kv: wrong number of arguments for 'GET': usage GET key",
    ]);
    expect(stdout).not.toContain(PROMPT);
    expect(stdout).not.toContain('=== Distributed KV Store Client ===');
  });

  it('ends at end of input (Ctrl-D) with Goodbye!', async () => {
    const { code, stdout } = await runKv(['--coordinator', cluster.address], {
      input: 'PUT k v\r\nGET k\r\n',
    });
    expect(code).toBe(0);
    expect(linesOf(stdout).slice(1)).toEqual(['[Client] GET k = v', 'Goodbye!']);
  });

  it('prints one JSON document per command with --json', async () => {
    const { stdout } = await runKv(['--json', '--coordinator', cluster.address], {
      input: 'PUT k v\nGET k\nGET none\nNOPE\n',
    });
    const docs = linesOf(stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs).toEqual([
      expect.objectContaining({ command: 'PUT', key: 'k', value: 'v' }),
      expect.objectContaining({ command: 'GET', found: true, value: 'v' }),
      expect.objectContaining({ command: 'GET', found: false }),
      { error: expect.objectContaining({ name: 'UsageError', exitCode: 2 }) },
    ]);
  });
});

describe('the shell without a cluster (the built kv)', () => {
  it('reports every failed command in one line and goes on', async () => {
    const port = await closedPort();
    const { code, stdout, stderr } = await runKv(['--coordinator', `127.0.0.1:${port}`], {
      input: 'GET a\nHELP\nPUT a b\n',
    });
    expect(code).toBe(0);
    expect(linesOf(stdout)[0]).toBe('Commands:');
    expect(linesOf(stdout).pop()).toBe('Goodbye!');
    const errors = linesOf(stderr);
    expect(errors).toHaveLength(2);
    for (const line of errors) {
      expect(line).toBe(
        `kv: cannot reach coordinator at 127.0.0.1:${port} (ECONNREFUSED): is it running?`,
      );
    }
  });
});

/** A client for the interactive tests: everything is found, nothing fails. */
const fakeClient: DataClient = {
  put: () => Promise.resolve(),
  getEntry: () =>
    Promise.resolve({
      value: Buffer.from('Alice'),
      node: 'a:1',
      primary: 'a:1',
      fromReplica: false,
    }),
  delete: () => Promise.resolve(true),
  nodesForKey: () => Promise.resolve({ primary: 'a:1', replicas: ['b:2'] }),
  listNodes: () => Promise.resolve<NodeStatus[]>([]),
  on: (_event: 'fallback', _listener: (e: FallbackEvent) => void) => undefined,
  off: (_event: 'fallback', _listener: (e: FallbackEvent) => void) => undefined,
};

describe('the interactive shell', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kv-shell-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function start(historyFile: string) {
    const input = new PassThrough();
    const output = new PassThrough();
    const errors = new PassThrough();
    let text = '';
    output.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    errors.resume();
    const done = runShell({
      input,
      output,
      printer: new Printer(output, errors, false),
      client: () => Promise.resolve(fakeClient),
      interactive: true,
      history: new HistoryFile(historyFile, () => undefined),
    });
    return { input, done, text: () => text };
  }

  it('shows the banner and prompt, and keeps history across sessions', async () => {
    const historyFile = join(dir, 'history');
    writeFileSync(historyFile, 'GET old\n');
    const shell = start(historyFile);
    await waitFor(() => shell.text().includes(PROMPT), 'the prompt');
    expect(shell.text()).toContain('=== Distributed KV Store Client ===\nCommands:\n');
    shell.input.write('get user:1\r');
    await waitFor(() => shell.text().includes('[Client] GET user:1 = Alice'), 'the answer');
    shell.input.write('EXIT\r');
    await expect(shell.done).resolves.toBe(0);
    expect(shell.text()).toContain('Goodbye!');
    expect(readFileSync(historyFile, 'utf8')).toBe('GET old\nget user:1\nEXIT\n');
  });

  it('ends at Ctrl-D', async () => {
    const shell = start(join(dir, 'h'));
    await waitFor(() => shell.text().includes(PROMPT), 'the prompt');
    shell.input.write('\u0004');
    await expect(shell.done).resolves.toBe(0);
    expect(shell.text()).toMatch(/\nGoodbye!\n$/);
  });
});
