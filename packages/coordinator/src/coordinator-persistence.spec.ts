import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataDirLockedError, type RespValue } from '@kv/protocol';
import { startCoordinator } from './coordinator';
import { ConfigError, StateFileError } from './errors';
import { STATE_FILE_NAME } from './state-store';
import { capturingLogger } from './test-support/log-sink';
import { waitFor } from './test-support/wait-for';
import {
  client,
  coordinators,
  keepAlive,
  listedIds,
  start,
  tempDir,
} from './test-support/coordinator-harness';

describe('coordinator persistence', () => {
  it('refuses a second coordinator on a data directory in use, and allows one after a stop', async () => {
    const dataDir = await tempDir();
    const first = await start({ dataDir });
    await expect(start({ dataDir })).rejects.toThrow(DataDirLockedError);
    await expect(start({ dataDir })).rejects.toThrow(
      `data directory ${dataDir} is in use by process ${process.pid}`,
    );
    await first.close();
    const second = await start({ dataDir });
    expect(second.port).toBeGreaterThan(0);
  });

  it('serves the same ring and epoch after a restart on the same data directory', async () => {
    const dataDir = await tempDir();
    const first = await start({ dataDir });
    const c1 = await client(first);
    await c1.send(['REGISTER_NODE', '127.0.0.1', 5001, 'ZONE', 'a']);
    await c1.send(['REGISTER_NODE', '127.0.0.1', 5002, 'ZONE', 'b', 'WEIGHT', 2]);
    await c1.send(['REGISTER_NODE', '127.0.0.1', 5003, 'ZONE', 'c']);
    await c1.send(['UNREGISTER_NODE', '127.0.0.1', 5003]);
    const ringBefore = (await c1.send(['RING'])) as RespValue[];
    c1.destroy();
    await first.close();

    const { logger, lines } = capturingLogger();
    const second = await start({ dataDir, logger });
    const c2 = await client(second);
    expect(await c2.send(['RING'])).toEqual(ringBefore);
    expect(second.epoch).toBe(4);
    expect(second.members().map((m) => [m.id, m.state])).toEqual([
      ['127.0.0.1:5001', 'probation'],
      ['127.0.0.1:5002', 'probation'],
    ]);
    expect(await c2.send(['HEARTBEAT', '127.0.0.1', 5001])).toBe(4);
    expect(second.members().map((m) => m.state)).toEqual(['up', 'probation']);
    expect(lines).toContain(
      `[Coordinator] Loaded membership from ${join(dataDir, STATE_FILE_NAME)}: epoch 4, 2 member(s) on probation until they heartbeat`,
    );
  });

  it('marks restored members that do not heartbeat within the failure timeout as dead', async () => {
    const dataDir = await tempDir();
    const first = await start({ dataDir });
    const c1 = await client(first);
    for (const port of [5001, 5002, 5003]) await c1.send(['REGISTER_NODE', '127.0.0.1', port]);
    c1.destroy();
    await first.close();

    const second = await start({ dataDir, heartbeatIntervalMs: 50, failureTimeoutMs: 200 });
    const c2 = await client(second);
    // Two of three heartbeat: a majority, so the silent one is declared dead.
    keepAlive(c2, [5002, 5003]);
    await waitFor(async () => (await listedIds(c2)).length === 2, 'the silent member to die');
    expect(await listedIds(c2)).toEqual(['127.0.0.1:5002', '127.0.0.1:5003']);
    expect(second.epoch).toBe(4);
    await second.close();

    // The deaths were persisted too.
    const third = await start({ dataDir });
    expect(third.epoch).toBe(4);
    expect(third.ring.members.map((m) => m.id)).toEqual(['127.0.0.1:5002', '127.0.0.1:5003']);
  });

  it('keeps the persisted ring options and warns when the configured ones differ', async () => {
    const dataDir = await tempDir();
    const first = await start({ dataDir, replicationFactor: 2, vnodesPerWeight: 64 });
    const c1 = await client(first);
    await c1.send(['REGISTER_NODE', '127.0.0.1', 5001]);
    c1.destroy();
    await first.close();

    const { logger, lines } = capturingLogger();
    const second = await start({ dataDir, logger });
    expect(second.ring.options).toEqual({ replicationFactor: 2, vnodesPerWeight: 64 });
    expect(lines).toContain(
      `[Coordinator] Using the ring options saved in ${join(dataDir, STATE_FILE_NAME)}: ` +
        'replicationFactor 2 (configured: 3), vnodesPerWeight 64 (configured: 2048). ' +
        'Changing them would move every key; to change them, start a new cluster (an empty data directory, or a new etcd key prefix)',
    );
  });

  it('starts empty on a new data directory and writes the state file at once', async () => {
    const dataDir = join(await tempDir(), 'new', 'dir');
    const coordinator = await start({ dataDir });
    expect(coordinator.epoch).toBe(0);
    expect(coordinator.stateFile).toBe(join(dataDir, STATE_FILE_NAME));
    await coordinator.close();
    expect((await start({ dataDir })).epoch).toBe(0);
  });

  it('refuses to start on a corrupt state file, naming it', async () => {
    const dataDir = await tempDir();
    const file = join(dataDir, STATE_FILE_NAME);
    await writeFile(file, '{"format": "kv-coordinator-membership", "version": 1, "epo');
    const attempt = startCoordinator({ dataDir, port: 0, silent: true });
    await expect(attempt).rejects.toThrow(StateFileError);
    await expect(attempt).rejects.toThrow(`cannot load coordinator state from ${file}`);
    await expect(attempt).rejects.toThrow('Move the file aside');
  });

  it('keeps serving when a save fails, and logs it', async () => {
    const dataDir = await tempDir();
    const { logger, lines } = capturingLogger();
    const coordinator = await start({ dataDir, logger });
    // A non-empty directory where the state file was: renaming over it fails.
    await rm(join(dataDir, STATE_FILE_NAME));
    await mkdir(join(dataDir, STATE_FILE_NAME, 'blocker'), { recursive: true });
    const c = await client(coordinator);
    expect(await c.send(['REGISTER_NODE', '127.0.0.1', 5001])).toEqual([
      Buffer.from('127.0.0.1:5001'),
      1,
    ]);
    expect(lines.some((l) => l.includes('cannot write coordinator state'))).toBe(true);
    expect(await listedIds(c)).toEqual(['127.0.0.1:5001']);
    coordinators.splice(coordinators.indexOf(coordinator), 1);
    await expect(coordinator.close()).rejects.toThrow('cannot write coordinator state');
  });

  it('rejects invalid options before creating anything', async () => {
    const dataDir = join(await tempDir(), 'never');
    const attempt = startCoordinator({ dataDir, failureTimeoutMs: 100, heartbeatIntervalMs: 200 });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(
      /^failureTimeoutMs \(100 ms\) must be greater than heartbeatIntervalMs \(200 ms\)/,
    );
    await expect(access(dataDir)).rejects.toThrow(/ENOENT/);
  });
});
