'use strict';
// Scale past this machine, by simulation: a coordinator with 100, 1,000 and 10,000 members
// (tools/bench/scaling-sim.cjs runs the real membership, failure detector and command
// handlers on a fake clock), plus what one ring change costs at each size.
const { Ring, DEFAULT_VNODES_PER_WEIGHT, MAX_VNODES } = require('@kv/ring');
const { simulate, HEARTBEAT_MS, FAILURE_TIMEOUT_MS } = require('../scaling-sim.cjs');
const { ringChangeCost, memberId } = require('../ring-change.cjs');

const LINK_BYTES_PER_SEC = 1.25e9; // a 10 Gb/s link
const SIZES = [
  { members: 100, vnodesPerWeight: DEFAULT_VNODES_PER_WEIGHT },
  { members: 1000, vnodesPerWeight: DEFAULT_VNODES_PER_WEIGHT },
  // 10,000 × 2048 vnodes is over the ring's limit: such a cluster is set up with fewer.
  { members: 10000, vnodesPerWeight: 256 },
];
const CHANGE_TARGET_MS = 20;
const SECONDS = 16;

const ms = (x) => `${x < 10 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US')} ms`;
const bytes = (n) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${n} B`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** max/mean of the members' primary shares. */
function balance(members, vnodesPerWeight) {
  const shares = new Ring(
    Array.from({ length: members }, (_, i) => memberId(i)),
    { vnodesPerWeight },
  )
    .ownership()
    .map((o) => o.primary);
  return Math.max(...shares) * members;
}

module.exports = {
  name: 'scaling',
  title: 'Scaling: a coordinator with 100, 1,000 and 10,000 members (simulated)',
  docs: ['scaling.md'],
  description:
    `Each column runs ${SECONDS} s of cluster time in one process on a fake clock: every member heartbeats every ` +
    `${HEARTBEAT_MS} ms (failure timeout ${FAILURE_TIMEOUT_MS} ms); one node joins (REGISTER_NODE … JOINING at 2 s, ` +
    'NODE_READY at 4 s), one fails (stops at 6 s, declared dead 5 s later) and one leaves (LEAVING at 8 s, ' +
    'UNREGISTER_NODE at 10 s). The coordinator’s real Membership, FailureDetector and command handlers answer; ' +
    'each member that sees a new epoch in its heartbeat reply fetches RING, as kv-node does. CPU is measured with ' +
    '`process.cpuUsage` around the coordinator’s work. The coordinator is modelled as one queue whose requests take ' +
    `that CPU time plus their reply's time on a ${LINK_BYTES_PER_SEC * 8e-9} Gb/s link, so the time for a change to ` +
    'reach every member counts the wait for the next heartbeat and the queue of RING replies. Ring change rows build ' +
    'or derive a ring of that many members (join and leave, median of 5).',
  async run({ log }) {
    const columns = [];
    for (const size of SIZES) {
      log(`${size.members} members: ring change ...`);
      const cost = ringChangeCost(size.members, size.vnodesPerWeight);
      const smaller = size.vnodesPerWeight === 256 ? cost : ringChangeCost(size.members, 256, 3);
      log(`${size.members} members: balance ...`);
      const worst = balance(size.members, size.vnodesPerWeight);
      log(`${size.members} members: simulation ...`);
      const sim = await simulate({
        ...size,
        seconds: SECONDS,
        linkBytesPerSec: LINK_BYTES_PER_SEC,
      });
      columns.push({ size, cost, smaller, worst, sim });
    }
    const over = DEFAULT_VNODES_PER_WEIGHT * 10000;
    const row = (what, cell) => [what, ...columns.map(cell)];
    const changeMs = (c) => Math.max(c.joinMs, c.leaveMs);
    const rows = [
      row(
        'vnodes per unit of weight (V); vnodes',
        (c) => `${c.size.vnodesPerWeight}; ${c.cost.vnodes.toLocaleString('en-US')}`,
      ),
      row('ring lookup arrays per ring (tokens, lists, cached member tokens)', (c) =>
        bytes(c.cost.bytes),
      ),
      row('balance: largest primary share ÷ mean', (c) => c.worst.toFixed(3)),
      row('build a ring whole: coordinator start-up, and every ring change before', (c) =>
        ms(c.cost.wholeMs),
      ),
      row(
        `ring change derived from the last ring: join / leave (target ≤ ${CHANGE_TARGET_MS} ms at 1,000)`,
        (c) => `${ms(c.cost.joinMs)} / ${ms(c.cost.leaveMs)}`,
      ),
      row('the same at V = 256', (c) => `${ms(c.smaller.joinMs)} / ${ms(c.smaller.leaveMs)}`),
      row('a member applies a new epoch from RING (median)', (c) => ms(median(c.sim.applyMs))),
      row('coordinator CPU per second of cluster time: heartbeats alone', (c) =>
        ms(c.sim.steadyCpuPerSec),
      ),
      row('coordinator CPU per second of cluster time: with the 5 changes', (c) =>
        ms(c.sim.cpuPerSec),
      ),
      row('coordinator CPU per heartbeat', (c) => `${c.sim.heartbeatCpuUs.toFixed(1)} µs`),
      row('coordinator CPU per membership change (median)', (c) => ms(median(c.sim.changeCpuMs))),
      row(
        'RING reply: settled / while a node moves',
        (c) => `${bytes(c.sim.ringReplyMinBytes)} / ${bytes(c.sim.ringReplyMaxBytes)}`,
      ),
      row('RING bytes the coordinator sends per change (every member fetches)', (c) =>
        bytes(c.sim.ringBytesPerChange),
      ),
      row('time for a change to reach every member: median / slowest of the 5', (c) => {
        const reach = c.sim.reach.map((r) => r.ms);
        return `${ms(median(reach))} / ${ms(Math.max(...reach))}`;
      }),
    ];
    const thousand = columns.find((c) => c.size.members === 1000);
    const met = changeMs(thousand.cost) <= CHANGE_TARGET_MS;
    return {
      headers: [
        'measure',
        ...columns.map((c) => `${c.size.members.toLocaleString('en-US')} members`),
      ],
      rows,
      summary: [
        `ring change at 1,000 members (V = ${DEFAULT_VNODES_PER_WEIGHT}): ${ms(changeMs(thousand.cost))} CPU, target ≤ ${CHANGE_TARGET_MS} ms: ${met ? 'met' : 'NOT met'}`,
        `10,000 members at V = ${DEFAULT_VNODES_PER_WEIGHT} would be ${over.toLocaleString('en-US')} vnodes, over the limit of ${MAX_VNODES.toLocaleString('en-US')}: that column uses V = 256`,
      ],
      notes:
        'docs/scaling.md reads these figures: what gives first at each size and what the design does about it.',
    };
  },
};
