import type { Host } from '../network';
import type { ActiveFault, FaultTarget } from './active-fault';

/** SIGKILLs a node; the end restarts it with the same command line (address, port, clock). */
export async function startKill(target: FaultTarget, host: Host): Promise<ActiveFault> {
  const { process } = target.node(host);
  await process.kill();
  return {
    description: `kill -9 ${host}`,
    end: () => {
      if (!process.running) process.start();
      return Promise.resolve();
    },
  };
}
