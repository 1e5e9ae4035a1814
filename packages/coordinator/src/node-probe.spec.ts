import { createServer, type Server } from 'node:net';
import { NodeProbe } from './node-probe';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0))
    await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A node stand-in on 127.0.0.1:0 answering each request (INFO) with `info`. */
async function answeringInfo(info: string): Promise<string> {
  const reply = `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
  const server = createServer((socket) => {
    socket.on('data', () => socket.write(reply));
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `127.0.0.1:${address.port}`;
}

const info = (persistence: string): string =>
  ['# Stats', 'total_commands_processed:40', 'used_memory_rss:1048576', '# Persistence']
    .concat(persistence === '' ? [] : persistence.split('\n'))
    .concat(['# Keyspace', 'db0:keys=5', ''])
    .join('\r\n');

describe('NodeProbe', () => {
  let probe: NodeProbe;

  it('reads a member the last reading did not ask at once, and no other one sooner than its interval', async () => {
    const first = await answeringInfo(info('storage_engine:memory'));
    const joined = await answeringInfo(info('storage_engine:memory'));
    let now = 1000;
    const slow = new NodeProbe(() => now, 500);
    try {
      const before = await slow.read([first]);
      // Within the interval: the same reading, until a member appears that it lacks.
      now += 100;
      expect(await slow.read([first])).toBe(before);
      const after = await slow.read([first, joined]);
      expect(after).not.toBe(before);
      expect(after.get(joined)).toMatchObject({ reachable: true, engine: 'memory' });
    } finally {
      slow.close();
    }
  });

  beforeEach(() => (probe = new NodeProbe(() => Date.now(), 0)));
  afterEach(() => probe.close());

  it("reads a durable node's storage, its log's sync p99, and a disk that cannot commit", async () => {
    const always = await answeringInfo(
      info(
        'storage_engine:lmdb\ndata_dir:/var/kv\nfsync:always\nfsync_interval_ms:\nlog_syncs:12\nlog_sync_p99_usec:310\ncommits_failing:0',
      ),
    );
    const full = await answeringInfo(
      info(
        'storage_engine:lmdb\ndata_dir:/var/kv\nfsync:periodic\nfsync_interval_ms:1000\nlog_syncs:0\nlog_sync_p99_usec:0\ncommits_failing:1',
      ),
    );
    const idle = await answeringInfo(
      info(
        'storage_engine:lmdb\ndata_dir:/var/kv\nfsync:always\nfsync_interval_ms:\nlog_syncs:12\nlog_sync_p99_usec:0\ncommits_failing:0',
      ),
    );
    const stats = await probe.read([always, full, idle]);
    expect(stats.get(always)).toMatchObject({
      reachable: true,
      keys: 5,
      memoryBytes: 1048576,
      engine: 'lmdb',
      fsync: 'always',
      logSyncP99Ms: 0.31,
      commitsFailing: false,
    });
    // No log under periodic: no sync figure rather than a p99 of 0.
    expect(stats.get(full)).toMatchObject({
      engine: 'lmdb',
      fsync: 'periodic',
      logSyncP99Ms: null,
      commitsFailing: true,
    });
    // Syncs once, none in the last minute or two: no figure either.
    expect(stats.get(idle)).toMatchObject({ fsync: 'always', logSyncP99Ms: null });
  });

  it('shows a node in memory as such, and one whose INFO has no Persistence section as unknown', async () => {
    const memory = await answeringInfo(
      info('storage_engine:memory\ndata_dir:\nfsync:\nlog_syncs:0\ncommits_failing:0'),
    );
    const older = await answeringInfo(info(''));
    const stats = await probe.read([memory, older]);
    expect(stats.get(memory)).toMatchObject({
      engine: 'memory',
      fsync: null,
      logSyncP99Ms: null,
      commitsFailing: false,
    });
    expect(stats.get(older)).toMatchObject({
      reachable: true,
      engine: null,
      logSyncP99Ms: null,
      commitsFailing: false,
    });
  });

  it('reports a node that does not answer as unreachable, with nothing known of its disk', async () => {
    const gone = await answeringInfo('');
    const [server] = servers.splice(0);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    expect((await probe.read([gone])).get(gone)).toMatchObject({
      reachable: false,
      engine: null,
      commitsFailing: false,
    });
  });
});
