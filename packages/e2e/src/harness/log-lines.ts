/** Patterns of the log lines the suite asserts on, as the servers print them. */

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const coordinatorLog = {
  started: /^\[Coordinator\] Started on /,
  /** The line of the original spec, kept exactly. */
  dead: (id: string): RegExp =>
    new RegExp(`^\\[Coordinator\\] Node ${escapeRegExp(id)} marked as dead and removed$`),
  anyDeath: /^\[Coordinator\] Node \S+ marked as dead and removed$/,
  unregistered: (id: string): RegExp =>
    new RegExp(`^\\[Coordinator\\] Node ${escapeRegExp(id)} unregistered, epoch \\d+$`),
  registered: (id: string): RegExp =>
    new RegExp(`^\\[Coordinator\\] Node ${escapeRegExp(id)} registered \\(.*\\), epoch \\d+$`),
  loaded:
    /^\[Coordinator\] Loaded membership from .*membership\.json: epoch (\d+), (\d+) member\(s\) on probation/,
};

/** Node lines start with `[Node <port>]`; warnings end with ` (warn)`. */
export const nodeLog = {
  started: (id: string): RegExp => new RegExp(`^\\[Node \\d+\\] Started on ${escapeRegExp(id)}$`),
  coordinatorLost:
    /^\[Node \d+\] Cannot reach the coordinator at \S+ .*serving with the ring it has/,
  coordinatorBack: /^\[Node \d+\] Coordinator at \S+ reachable again$/,
  registeringAgain: /^\[Node \d+\] Coordinator does not know this node; registering again$/,
  registered: /^\[Node \d+\] Coordinator response: OK Node \S+ registered/,
  unregistered: /^\[Node \d+\] Unregistered from the coordinator at \S+$/,
  stopped: /^\[Node \d+\] Stopped$/,
};
