import { LocalCluster } from './cluster';
import { HTTP_PORT_OFFSET, type LocalClusterOptions } from './cluster-options';
import { StartInterruptedError } from './errors';
import { ExitCode } from './exit-codes';
import type { Printer } from './printer';

/** Signals that stop `kv cluster`: Ctrl-C, `kill`, and the terminal going away. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The signal that restarts every dead process of a running `kv cluster`. */
export const RESTART_SIGNAL = 'SIGUSR2';

/**
 * `kv cluster`: starts a local cluster, says how to connect, and runs until SIGINT,
 * SIGTERM or SIGHUP, then stops every process and returns {@link ExitCode.OK}. A process
 * that dies once the cluster is ready is reported and the others keep running;
 * {@link RESTART_SIGNAL} restarts every dead process (`--restart-dead` does it by itself).
 * A process that dies while the cluster starts stops the start and returns
 * {@link ExitCode.FAILURE}. A second stop signal kills whatever is still running at once.
 */
export async function runClusterCommand(
  options: LocalClusterOptions,
  printer: Printer,
): Promise<ExitCode> {
  const out = options.stdout;
  let signalled: NodeJS.Signals | undefined;
  let cluster: LocalCluster | undefined;
  let wake: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      cluster?.kill();
      return;
    }
    signalled = signal;
    interrupt.abort();
    wake();
  };
  const onRestart = (): void => {
    if (!cluster) return;
    const restarted = cluster.restartDead();
    if (restarted.length === 0)
      out.write('[Cluster] Every process is running: nothing to restart\n');
  };
  const restartHint = `kill -${RESTART_SIGNAL.replace(/^SIG/, '')} ${process.pid}`;
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on(RESTART_SIGNAL, onRestart);
  try {
    cluster = await LocalCluster.start({
      ...options,
      signal: interrupt.signal,
      restartHint,
    });
    const tlsFlags = cluster.tls ? ` --tls-ca ${cluster.tls.ca}` : '';
    out.write(
      `[Cluster] Ready: coordinator ${cluster.coordinator}, ` +
        `${cluster.nodes.length === 1 ? 'node' : `${cluster.nodes.length} nodes`} ` +
        `${cluster.nodes.join(', ')}, write quorum ${cluster.writeQuorum}\n` +
        `[Cluster] Connect with: kv --coordinator ${cluster.coordinator}${tlsFlags}  ` +
        `(or: npx kv --coordinator ${cluster.coordinator}${tlsFlags} --command "PUT user:1 Alice")\n` +
        `[Cluster] Dashboard: ${cluster.dashboardUrl}  (Prometheus metrics at /metrics there ` +
        `and on each node's port + ${HTTP_PORT_OFFSET})\n` +
        (options.clusterSecretFile === undefined
          ? ''
          : `[Cluster] Members authenticate with the secret in ${options.clusterSecretFile}` +
            `${cluster.secretCreated ? ' (created)' : ''}; kv status and kv decommission read it from there\n`) +
        (cluster.tls
          ? `[Cluster] redis-cli: redis-cli --tls --cacert ${cluster.tls.ca} -p ${cluster.nodes[0]?.split(':')[1] ?? ''}\n`
          : '') +
        `[Cluster] A process that dies is reported and the others keep serving; ` +
        (options.restartDead
          ? 'it is restarted by itself (--restart-dead)\n'
          : `restart dead ones with: ${restartHint}\n`) +
        '[Cluster] Press Ctrl-C to stop every process\n',
    );
    await stopRequested;
    out.write(`[Cluster] Stopping${signalled ? ` (${signalled})` : ''}\n`);
    await cluster.stop();
    out.write('[Cluster] Stopped\n');
    return ExitCode.OK;
  } catch (err) {
    // Stopped on request before it was ready: what was started is stopped, as asked.
    if (err instanceof StartInterruptedError) return ExitCode.OK;
    return printer.error(err);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off(RESTART_SIGNAL, onRestart);
  }
}
