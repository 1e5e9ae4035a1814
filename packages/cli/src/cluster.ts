import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, NotServingError, type KvClient } from '@kv/client';
import { readClusterSecret, readPemFile, type DevCertificates } from '@kv/protocol';
import { devCertificatesIn, tlsArgs } from './cluster-certificates';
import {
  CLUSTER_HOST,
  HTTP_PORT_OFFSET,
  MAX_RESTARTS_PER_MINUTE,
  RESTART_DELAY_MS,
  resolveClusterOptions,
  type LocalClusterOptions,
  type ResolvedClusterOptions,
} from './cluster-options';
import { runKv, terminateGroup, type Exit, type Managed } from './cluster-process';
import { ensureSecretFile } from './credentials';
import { ClusterStartTimeoutError, ProcessExitedError, StartInterruptedError } from './errors';
import { assertPortsFree } from './ports';

/**
 * A coordinator and storage nodes on this machine, each its own child process running
 * this package's `kv coordinator` / `kv node`, for development. Their output is passed on
 * line by line, each line tagged with the process it came from (`[Node 5001] ...`).
 *
 * @example
 * ```ts
 * const { stdout, stderr } = process;
 * const cluster = await LocalCluster.start({ nodes: 3, basePort: 5000, stdout, stderr });
 * // ... kv --coordinator 127.0.0.1:5000 ...
 * await cluster.stop();
 * ```
 */
export class LocalCluster {
  /** The coordinator's address, `127.0.0.1:<basePort>`. */
  readonly coordinator: string;
  /** The nodes' addresses (their ids), in port order. */
  readonly nodes: readonly string[];
  /** The write quorum the nodes were given: 2, or 1 for a single node. */
  readonly writeQuorum: number;
  /** Whether the cluster secret file was created by this start (it did not exist). */
  readonly secretCreated: boolean;
  /** The dashboard's address, `http://127.0.0.1:<basePort + 80>/` (`https://` with TLS). */
  readonly dashboardUrl: string;
  /** Settles with the first process that exits while the cluster starts. */
  private readonly startFailure: Promise<ProcessExitedError>;

  private readonly options: ResolvedClusterOptions;
  /** What the processes authenticate each other with, for this process's own client. */
  private readonly clusterSecret: Buffer | undefined;
  /** The certificates every process uses, when the cluster runs with TLS. */
  private certificates: DevCertificates | undefined;
  /** A temporary folder of certificates, removed when the cluster stops. */
  private temporary: string | undefined;
  private readonly interrupt: AbortSignal | undefined;
  private readonly processes: Managed[] = [];
  private readonly abort = new AbortController();
  private reportFailure: (err: ProcessExitedError) => void = () => undefined;
  /** Set once every node serves: from then on a death is reported, not fatal. */
  private ready = false;
  private stopping: Promise<void> | undefined;
  // If this process exits without stopping the cluster (an uncaught error), take the
  // children along rather than leave them running unseen.
  private readonly killOnExit = (): void => this.kill();

  private constructor(options: LocalClusterOptions) {
    this.options = resolveClusterOptions(options);
    const { basePort, nodes } = this.options;
    const secretFile = this.options.clusterSecretFile;
    this.secretCreated = secretFile !== undefined && ensureSecretFile(secretFile);
    const fromEnv = this.options.env['KV_CLUSTER_SECRET'];
    this.clusterSecret =
      secretFile !== undefined
        ? readClusterSecret(secretFile)
        : fromEnv
          ? Buffer.from(fromEnv.trim())
          : undefined;
    this.interrupt = options.signal;
    this.coordinator = `${CLUSTER_HOST}:${basePort}`;
    this.nodes = Array.from({ length: nodes }, (_, i) => `${CLUSTER_HOST}:${basePort + 1 + i}`);
    this.writeQuorum = Math.min(2, nodes);
    // With TLS the metrics listener serves HTTPS only, with the cluster's certificate.
    this.dashboardUrl = `${this.options.tls ? 'https' : 'http'}://${CLUSTER_HOST}:${basePort + HTTP_PORT_OFFSET}/`;
    this.startFailure = new Promise((resolveFailure) => {
      this.reportFailure = resolveFailure;
    });
  }

  /**
   * Checks that every port is free, starts the coordinator, then the nodes, and waits
   * until every node serves reads. If anything fails, whatever was started is stopped
   * before this rejects.
   *
   * @throws {@link PortInUseError} before starting anything; {@link ProcessExitedError} if a
   *   process dies while starting; {@link ClusterStartTimeoutError}
   */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const cluster = new LocalCluster(options);
    const { basePort, nodes } = cluster.options;
    await assertPortsFree(
      Array.from({ length: nodes + 1 }, (_, i) => [
        basePort + i,
        basePort + HTTP_PORT_OFFSET + i,
      ]).flat(),
      CLUSTER_HOST,
    );
    process.on('exit', cluster.killOnExit);
    try {
      if (cluster.options.tls) await cluster.makeCertificates();
      await cluster.launch();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    cluster.ready = true;
    return cluster;
  }

  /** The cluster's TLS files (its CA is what clients trust), or undefined without TLS. */
  get tls(): DevCertificates | undefined {
    return this.certificates;
  }

  /** Process ids of every process running now, coordinator first. */
  get pids(): number[] {
    return this.processes.flatMap((p) =>
      p.done || p.child.pid === undefined ? [] : [p.child.pid],
    );
  }

  /** The processes not running now (`node 127.0.0.1:5002`), coordinator first. */
  get dead(): string[] {
    return this.processes.filter((p) => p.done).map((p) => p.label);
  }

  /**
   * Starts every process that is not running again, the coordinator first, each with its
   * own command line (the same port and data directory: it comes back as itself), and
   * reports on the cluster's output when each serves again. Does nothing once stopping.
   *
   * @returns the processes restarted, e.g. `['node 127.0.0.1:5002']`
   */
  restartDead(): string[] {
    if (this.stopping !== undefined || !this.ready) return [];
    const dead = this.processes.filter((p) => p.done);
    for (const p of dead) this.restart(p);
    return dead.map((p) => p.label);
  }

  /**
   * Stops every process: SIGTERM to the nodes (so they leave the ring while the
   * coordinator is still there), then to the coordinator; a process still running after
   * `stopTimeoutMs` gets SIGKILL. Resolves when all have exited. Safe to call repeatedly.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      for (const p of this.processes) clearTimeout(p.restartTimer);
      await this.terminate(this.processes.filter((p) => p.role === 'node'));
      await this.terminate(this.processes.filter((p) => p.role === 'coordinator'));
      if (this.temporary) await rm(this.temporary, { recursive: true, force: true });
      process.off('exit', this.killOnExit);
    })();
    return this.stopping;
  }

  /** Sends SIGKILL to every process still running, now (a second Ctrl-C). */
  kill(): void {
    for (const p of this.processes) if (!p.done) p.child.kill('SIGKILL');
  }

  /**
   * Makes the development CA and certificates; with a data directory, the ones already
   * there are kept (unless they expire within a day), so clients configured with its CA go
   * on working across restarts.
   */
  private async makeCertificates(): Promise<void> {
    const { dataDir } = this.options;
    let dir: string;
    if (dataDir === undefined) {
      this.temporary = await mkdtemp(join(tmpdir(), 'kv-cluster-tls-'));
      dir = this.temporary;
    } else {
      dir = join(dataDir, 'tls');
    }
    this.certificates = await devCertificatesIn(dir, this.options.stdout);
  }

  private async launch(): Promise<void> {
    const { basePort, dataDir, readyTimeoutMs, clusterSecretFile } = this.options;
    const deadline = Date.now() + readyTimeoutMs;
    const secret =
      clusterSecretFile === undefined ? [] : ['--cluster-secret-file', clusterSecretFile];
    this.spawn('coordinator', this.coordinator, '[Coordinator]', [
      'coordinator',
      ...['--host', CLUSTER_HOST, '--port', String(basePort)],
      ...['--metrics-port', String(basePort + HTTP_PORT_OFFSET)],
      ...(dataDir === undefined ? [] : ['--data-dir', join(dataDir, 'coordinator')]),
      ...secret,
      ...tlsArgs(this.certificates),
    ]);
    const client = this.client();
    try {
      // Nodes retry their registration, but starting them once the coordinator answers
      // keeps their logs free of connection errors.
      await this.untilServing(client, [], deadline);
      this.nodes.forEach((id, i) => {
        const port = String(basePort + 1 + i);
        this.spawn('node', id, `[Node ${port}]`, [
          'node',
          ...['--host', CLUSTER_HOST, '--port', port],
          ...['--metrics-port', String(basePort + HTTP_PORT_OFFSET + 1 + i)],
          ...['--coordinator', this.coordinator],
          ...['--write-quorum', String(this.writeQuorum)],
          ...secret,
          ...tlsArgs(this.certificates),
          ...(dataDir === undefined ? [] : ['--data-dir', join(dataDir, `node-${port}`)]),
        ]);
      });
      // Serving means up at the coordinator and routing with its ring epoch, so the first
      // request after "ready" is placed the same by everyone and no node still joins.
      await this.untilServing(client, this.nodes, deadline);
    } finally {
      await client.close();
    }
  }

  private spawn(role: Managed['role'], address: string, tag: string, args: string[]): void {
    const managed: Managed = {
      label: `${role} ${address}`,
      role,
      address,
      tag,
      args,
      ...this.run(args, tag),
      done: false,
      restarts: [],
    };
    this.processes.push(managed);
    this.watch(managed);
    this.options.stdout.write(
      `[Cluster] Started ${managed.label} (pid ${managed.child.pid ?? '?'})\n`,
    );
  }

  /** Starts `kv <args>` with its output passed on, tagged. */
  private run(args: readonly string[], tag: string): Pick<Managed, 'child' | 'exited'> {
    return runKv(this.options, args, tag);
  }

  /** Follows one run of a process: a death while starting fails the start; later, it is reported. */
  private watch(managed: Managed): void {
    const { exited } = managed;
    void exited.then((exit) => {
      if (managed.exited !== exited) return;
      managed.done = true;
      if (this.stopping !== undefined) return;
      if (!this.ready) {
        this.abort.abort();
        this.reportFailure(new ProcessExitedError(managed.label, exit.code, exit.signal));
        return;
      }
      this.died(managed, exit);
    });
  }

  /** Reports a death once the cluster is ready, and restarts the process if asked to. */
  private died(managed: Managed, { code, signal }: Exit): void {
    if (this.stopping !== undefined || managed.restartTimer) return;
    const { stdout } = this.options;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    // Exit code 0 is a process that was told to stop (decommissioned, or SIGTERM).
    const deliberate = code === 0 && signal === null;
    stdout.write(
      `[Cluster] ${managed.label} ${deliberate ? 'stopped' : 'exited unexpectedly'} (${how}); ` +
        'the other processes keep running\n',
    );
    const now = Date.now();
    managed.restarts = managed.restarts.filter((at) => now - at < 60_000);
    const hint = this.options.restartHint;
    if (deliberate || !this.options.restartDead) {
      if (hint) stdout.write(`[Cluster] Restart it with: ${hint}\n`);
      return;
    }
    if (managed.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      stdout.write(
        `[Cluster] ${managed.label} died ${managed.restarts.length + 1} times within a minute: ` +
          `not restarting it again; its log lines above say why${hint ? ` (then: ${hint})` : ''}\n`,
      );
      return;
    }
    stdout.write(`[Cluster] Restarting ${managed.label} in ${RESTART_DELAY_MS} ms\n`);
    managed.restartTimer = setTimeout(() => {
      managed.restartTimer = undefined;
      managed.restarts.push(Date.now());
      if (this.stopping === undefined && managed.done) this.restart(managed);
    }, RESTART_DELAY_MS);
  }

  /** Starts a dead process again with its command line, and says when it serves. */
  private restart(managed: Managed): void {
    clearTimeout(managed.restartTimer);
    managed.restartTimer = undefined;
    Object.assign(managed, this.run(managed.args, managed.tag), { done: false });
    this.watch(managed);
    this.options.stdout.write(
      `[Cluster] Restarted ${managed.label} (pid ${managed.child.pid ?? '?'})\n`,
    );
    void this.announceServing(managed);
  }

  /**
   * Writes `[Cluster] node ... serves again` once a restarted node serves at the
   * coordinator's ring epoch (for the coordinator: once it answers), or why not.
   */
  private async announceServing(managed: Managed): Promise<void> {
    const { exited } = managed;
    const client = this.client();
    const gone = new AbortController();
    void exited.then(() => gone.abort());
    try {
      await client.waitUntilServing(managed.role === 'node' ? [managed.address] : [], {
        timeoutMs: this.options.readyTimeoutMs,
        intervalMs: 100,
        signal: AbortSignal.any([gone.signal, this.abort.signal]),
      });
      this.options.stdout.write(
        `[Cluster] ${managed.label} ${managed.role === 'node' ? 'serves' : 'answers'} again\n`,
      );
    } catch (err) {
      if (err instanceof NotServingError)
        this.options.stdout.write(
          `[Cluster] ${managed.label} did not serve within ${this.options.readyTimeoutMs} ms: ` +
            'its log lines say why\n',
        );
    } finally {
      gone.abort();
      await client.close();
    }
  }

  /** A client for the cluster's own checks, authenticated as a member. */
  private client(): KvClient {
    return createClient({
      coordinator: this.coordinator,
      connectTimeoutMs: 1000,
      requestTimeoutMs: 1000,
      retries: 0,
      refreshIntervalMs: 0,
      clusterSecret: this.clusterSecret,
      ...(this.certificates && { tls: { ca: readPemFile(this.certificates.ca, '--tls-ca') } }),
    });
  }

  /**
   * Waits until every node of `nodes` serves (with none, until the coordinator answers);
   * fails early if a process dies or the start is interrupted.
   */
  private async untilServing(
    client: KvClient,
    nodes: readonly string[],
    deadline: number,
  ): Promise<void> {
    const failed = this.startFailure.then((err) => Promise.reject(err));
    const interrupted = new Promise<never>((_, reject) => {
      const interrupt = this.interrupt;
      if (interrupt === undefined) return;
      const stop = (): void => {
        this.abort.abort();
        reject(new StartInterruptedError());
      };
      if (interrupt.aborted) stop();
      else interrupt.addEventListener('abort', stop, { once: true });
    });
    const serving = client
      .waitUntilServing(nodes, {
        timeoutMs: Math.max(0, deadline - Date.now()),
        intervalMs: 50,
        signal: this.abort.signal,
      })
      .catch((err: unknown) => {
        if (err instanceof NotServingError) {
          const missing = err.waiting.length > 0 ? err.waiting : this.nodes;
          throw new ClusterStartTimeoutError(this.options.readyTimeoutMs, missing);
        }
        // Aborted because a process died or the start was interrupted: that settles the
        // race below with the reason worth reporting, so this wait stays silent.
        if (this.abort.signal.aborted) return new Promise<never>(() => undefined);
        throw err;
      });
    await Promise.race([serving, failed, interrupted]);
  }

  private terminate(group: readonly Managed[]): Promise<void> {
    return terminateGroup(group, this.options);
  }
}
