import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, HOST } from './free-port';
import { ManagedProcess } from './managed-process';

/** A single-member etcd on free ports of 127.0.0.1, with a data directory of its own. */
export interface EtcdServer {
  /** `host:port` clients connect to. */
  readonly address: string;
  readonly process: ManagedProcess;
  /** `--store` for coordinators sharing it under the key prefix `prefix`. */
  store(prefix: string): string;
  /** Stops it and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts etcd (Debian `etcd-server`) on loopback. etcd cannot listen on port 0, so its
 * client and peer ports are free ports picked a moment before. Fails, never skips, when
 * etcd is missing.
 */
export async function startEtcd(): Promise<EtcdServer> {
  const probe = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    throw new Error(
      'etcd is needed by the coordinator high-availability tests but cannot be run ' +
        `(${probe.error ? (probe.error as NodeJS.ErrnoException).code : `exit code ${probe.status}`}): ` +
        'install it with `apt-get install -y etcd-server` (CI installs it)',
    );
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const dir = mkdtempSync(join(tmpdir(), 'kv-etcd-'));
  const client = `http://${HOST}:${clientPort}`;
  const peer = `http://${HOST}:${peerPort}`;
  const process = ManagedProcess.start({
    name: `etcd ${HOST}:${clientPort}`,
    command: 'etcd',
    args: [
      ...['--name', 'kv-e2e', '--data-dir', join(dir, 'data')],
      ...['--listen-client-urls', client, '--advertise-client-urls', client],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', `kv-e2e=${peer}`],
    ],
  });
  await process.waitForLine(/ready to serve client requests/, 20_000);
  return {
    address: `${HOST}:${clientPort}`,
    process,
    store: (prefix) => `etcd://${HOST}:${clientPort}/${prefix}`,
    stop: async () => {
      await process.terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
