import { sleep } from '../harness/wait';
import type { ActiveFault, FaultTarget } from './faults/active-fault';
import { startKill } from './faults/kill-restart';
import { startIsolatedPrimary, startPartition } from './faults/partition';
import { startPause } from './faults/pause';
import type { Fault, Schedule } from './schedule';

/** When a fault was in force (on `performance.now()`), and what it was. */
export interface FaultWindow {
  readonly start: number;
  readonly end: number;
  readonly description: string;
}

function startFault(target: FaultTarget, fault: Fault): Promise<ActiveFault> {
  switch (fault.kind) {
    case 'partition':
      return Promise.resolve(startPartition(target, fault.groups));
    case 'isolate-primary':
      return startIsolatedPrimary(target, fault.key);
    case 'kill':
      return startKill(target, fault.host);
    case 'pause':
      return Promise.resolve(startPause(target, fault.host));
  }
}

async function sleepUntil(time: number): Promise<void> {
  const left = time - performance.now();
  if (left > 0) await sleep(left);
}

/**
 * Carries out the episodes of a schedule from now on, each at its time (a fault with
 * `afterMs` that long into it), ending each one's faults (in the order they started) when
 * it is over. Returns when the last episode
 * ended, or after the whole fault phase if there is none (a skewed clock is the fault
 * then). A fault that cannot start ends those already started and fails the run.
 */
export async function runEpisodes(target: FaultTarget, schedule: Schedule): Promise<FaultWindow[]> {
  const phaseStart = performance.now();
  const windows: FaultWindow[] = [];
  for (const episode of schedule.episodes) {
    await sleepUntil(phaseStart + episode.at);
    const start = performance.now();
    const active: ActiveFault[] = [];
    try {
      const inOrder = [...episode.faults].sort((a, b) => (a.afterMs ?? 0) - (b.afterMs ?? 0));
      for (const fault of inOrder) {
        await sleepUntil(phaseStart + episode.at + (fault.afterMs ?? 0));
        active.push(await startFault(target, fault));
      }
      await sleepUntil(phaseStart + episode.at + episode.duration);
    } finally {
      for (const fault of active) await fault.end();
    }
    windows.push({
      start,
      end: performance.now(),
      description: active.map((f) => f.description).join(', '),
    });
  }
  if (schedule.episodes.length === 0) await sleepUntil(phaseStart + schedule.faultPhaseMs);
  return windows;
}
