import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RespConnection, memberHandshake, type RespValue } from '@kv/protocol';
import type Redis from 'ioredis';
import { startCoordinator, type Coordinator, type CoordinatorOptions } from '../coordinator';
import { RawClient } from './raw-client';

// What the coordinator's socket tests share: servers, connections and directories they
// open are closed and removed after each test (this module registers the afterEach).

/** Coordinators a test started, closed after it. */
export const coordinators: Coordinator[] = [];
const connections: RespConnection[] = [];
const raws: RawClient[] = [];
/** ioredis clients a test opened, disconnected after it. */
export const redises: Redis[] = [];
const dirs: string[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const redis of redises.splice(0)) redis.disconnect();
  for (const raw of raws.splice(0)) raw.destroy();
  for (const connection of connections.splice(0)) connection.destroy();
  await Promise.all(coordinators.splice(0).map((c) => c.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  jest.restoreAllMocks();
});

export async function start(options: CoordinatorOptions = {}): Promise<Coordinator> {
  const coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    silent: true,
    ...options,
  });
  coordinators.push(coordinator);
  return coordinator;
}

/** A connection to `coordinator`, a member's when `secret` is given; closed after the test. */
export async function client(coordinator: Coordinator, secret?: Buffer): Promise<RespConnection> {
  const connection = await RespConnection.connect({
    port: coordinator.port,
    host: '127.0.0.1',
    handshake: secret === undefined ? undefined : memberHandshake(secret),
  });
  connections.push(connection);
  return connection;
}

export async function raw(coordinator: Coordinator): Promise<RawClient> {
  const r = await RawClient.connect(coordinator.port);
  raws.push(r);
  return r;
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kv-coordinator-'));
  dirs.push(dir);
  return dir;
}

/** Sends HEARTBEAT for each node every 25 ms until the test ends. */
export function keepAlive(connection: RespConnection, ports: number[]): void {
  const beat = (): void => {
    for (const port of ports) {
      connection.send(['HEARTBEAT', '127.0.0.1', port]).catch(() => undefined);
    }
  };
  beat();
  timers.push(setInterval(beat, 25));
}

export async function listedIds(connection: RespConnection, all = false): Promise<string[]> {
  const reply = (await connection.send(all ? ['LIST_NODES', 'ALL'] : ['LIST_NODES'])) as Buffer[][];
  return reply.map((entry) => String(entry[0]));
}

export function text(value: RespValue): string {
  return String(value);
}
