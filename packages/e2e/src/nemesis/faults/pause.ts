import type { Host } from '../network';
import type { ActiveFault, FaultTarget } from './active-fault';

/**
 * SIGSTOPs a node: its sockets stay open and the kernel keeps accepting and buffering
 * requests nobody reads until SIGCONT, when the fault ends.
 */
export function startPause(target: FaultTarget, host: Host): ActiveFault {
  const { process } = target.node(host);
  process.pause();
  return {
    description: `pause ${host}`,
    end: () => {
      if (process.running) process.resume();
      return Promise.resolve();
    },
  };
}
