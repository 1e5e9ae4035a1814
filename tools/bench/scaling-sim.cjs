'use strict';
// A coordinator with many members, simulated in one process on a fake clock: the real
// Membership, FailureDetector and coordinator command handlers (HEARTBEAT, RING,
// REGISTER_NODE, NODE_READY, LEAVING, UNREGISTER_NODE) run as they do in kv-coordinator;
// only sockets are left out. Nodes are records that heartbeat on the fake clock, learn of a
// new epoch from the heartbeat reply and fetch RING, as kv-node does.
//
// The coordinator is modelled as one queue: each request it serves takes the CPU time its
// handler took here (measured with process.cpuUsage) plus the time its reply takes on the
// coordinator's network link. A ring change reaches a member when its RING reply has been
// sent; so the reach time includes the wait for the next heartbeat and any queue built by
// everyone fetching the same large reply.
const {
  COORDINATOR_COMMANDS,
  FailureDetector,
  Membership,
  checkIntervalFor,
} = require('@kv/coordinator');
const { encodeReply } = require('@kv/protocol');
const { decodeRingReply } = require('@kv/ring');

const HEARTBEAT_MS = 1000;
const FAILURE_TIMEOUT_MS = 5000;

/** Member `i`'s address: one node per host, like a cluster of separate machines. */
function addressOf(i) {
  return [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '5001'];
}

function cpuMs(fn) {
  const before = process.cpuUsage();
  const result = fn();
  const used = process.cpuUsage(before);
  return [result, (used.user + used.system) / 1000];
}

async function cpuMsAsync(fn) {
  const before = process.cpuUsage();
  const result = await fn();
  const used = process.cpuUsage(before);
  return [result, (used.user + used.system) / 1000];
}

const args = (...words) => words.map((w) => Buffer.from(String(w)));

/**
 * Runs `seconds` of cluster time with `members` members heartbeating every second, one node
 * joining (t = 2 s) and becoming ready (4 s), one failing (6 s: declared dead 5 s later) and
 * one leaving (8 s, gone at 10 s).
 *
 * @param {{ members: number, vnodesPerWeight: number, seconds?: number, linkBytesPerSec?: number }} options
 */
async function simulate({ members, vnodesPerWeight, seconds = 16, linkBytesPerSec = 1.25e9 }) {
  let now = 0;
  const ringJson = {
    vnodesPerWeight,
    replicationFactor: 3,
    members: Array.from({ length: members }, (_, i) => ({
      id: addressOf(i).join(':'),
      weight: 1,
      zone: '',
    })),
  };
  const [membership, startupMs] = cpuMs(() =>
    Membership.restore({ epoch: 1, ring: ringJson }, { now: () => now }),
  );
  const detector = new FailureDetector(membership, { failureTimeoutMs: FAILURE_TIMEOUT_MS });
  const checkEvery = checkIntervalFor(HEARTBEAT_MS, FAILURE_TIMEOUT_MS);
  const changes = [];
  const context = {
    membership,
    // What the coordinator's commit does besides logging: serialise the state it saves.
    commit: async () => void JSON.stringify(membership.toState()),
    info: () => '',
    access: undefined,
  };

  // The coordinator's queue: when it is next free, and the CPU time it spent.
  let freeAt = 0;
  let cpuTotalMs = 0;
  const serve = (arrival, cpu, bytes) => {
    freeAt = Math.max(freeAt, arrival) + cpu + (bytes / linkBytesPerSec) * 1000;
    cpuTotalMs += cpu;
    return freeAt;
  };

  const nodes = Array.from({ length: members }, (_, i) => ({
    address: addressOf(i),
    offset: (i * HEARTBEAT_MS) / members,
    known: 1,
    alive: true,
  }));
  const sample = { held: membership.ringEpoch, applyMs: [] };
  const stats = {
    heartbeatCpuMs: 0,
    heartbeats: 0,
    ringCpuMs: 0,
    ringBytes: 0,
    ringReplies: 0,
    payloads: new Map(),
    changeCpuMs: [],
    reached: new Map(), // change epoch → latest time a live member had it (or a later one)
  };
  const learned = (from, to, at) => {
    for (const c of changes) {
      if (c.epoch > from && c.epoch <= to) {
        stats.reached.set(c.epoch, Math.max(stats.reached.get(c.epoch) ?? 0, at));
      }
    }
  };

  const change = async (name, words, at) => {
    const [, cpu] = await cpuMsAsync(() =>
      COORDINATOR_COMMANDS[name].run(args(name, ...words), context),
    );
    serve(at, cpu, 16);
    stats.changeCpuMs.push(cpu);
    changes.push({ epoch: membership.epoch, at, what: name });
  };
  const joiner = { address: addressOf(members), offset: 500, known: 0, alive: false };
  const failing = nodes[Math.floor(members / 3)];
  const leaving = nodes[Math.floor((2 * members) / 3)];
  const events = [
    {
      at: 2000,
      run: async (at) => {
        await change('REGISTER_NODE', [...joiner.address, 'JOINING'], at);
        joiner.alive = true;
        nodes.push(joiner);
      },
    },
    { at: 4000, run: (at) => change('NODE_READY', joiner.address, at) },
    { at: 6000, run: () => void (failing.alive = false) },
    { at: 8000, run: (at) => change('LEAVING', leaving.address, at) },
    {
      at: 10000,
      run: async (at) => {
        await change('UNREGISTER_NODE', leaving.address, at);
        leaving.alive = false;
      },
    },
  ];

  const heartbeat = (node, at) => {
    const [epoch, cpu] = cpuMs(() =>
      COORDINATOR_COMMANDS.HEARTBEAT.run(args('HEARTBEAT', ...node.address), context),
    );
    stats.heartbeatCpuMs += cpu;
    stats.heartbeats++;
    const answered = serve(at, cpu, encodeReply(epoch).length);
    if (epoch === node.known) return;
    const [bytes, ringCpu] = cpuMs(
      () => encodeReply(COORDINATOR_COMMANDS.RING.run(args('RING', node.known), context)).length,
    );
    stats.ringCpuMs += ringCpu;
    stats.ringBytes += bytes;
    stats.ringReplies++;
    stats.payloads.set(epoch, bytes);
    const got = serve(answered, ringCpu, bytes);
    learned(node.known, epoch, got);
    node.known = epoch;
    if (node === nodes[0]) {
      // One member applies it as kv-node does, from the rings it holds.
      const reply = COORDINATOR_COMMANDS.RING.run(args('RING'), context);
      const [next, applyCpu] = cpuMs(() => decodeRingReply(reply, undefined, sample.held));
      sample.held = next;
      sample.applyMs.push(applyCpu);
    }
  };

  const steadyUntil = 2000; // the first two seconds have no change: heartbeats alone
  let steadyCpu = 0;
  let nextCheck = checkEvery;
  for (let second = 0; second < seconds; second++) {
    const order = [...nodes].sort((a, b) => a.offset - b.offset);
    for (const node of order) {
      const at = second * HEARTBEAT_MS + node.offset;
      while (events.length > 0 && events[0].at <= at) {
        const event = events.shift();
        now = event.at;
        await event.run(event.at);
      }
      while (nextCheck <= at) {
        now = nextCheck;
        const [dead, cpu] = cpuMs(() => detector.check());
        serve(nextCheck, cpu, 0);
        for (const d of dead) {
          stats.changeCpuMs.push(cpu / dead.length);
          changes.push({ epoch: d.epoch, at: nextCheck, what: 'dead' });
        }
        nextCheck += checkEvery;
      }
      now = at;
      if (node.alive) heartbeat(node, at);
    }
    if ((second + 1) * HEARTBEAT_MS === steadyUntil) steadyCpu = cpuTotalMs;
  }

  const reach = changes
    .filter((c) => stats.reached.has(c.epoch))
    .map((c) => ({ ...c, ms: stats.reached.get(c.epoch) - c.at }));
  const payloads = [...stats.payloads.values()];
  return {
    members,
    vnodesPerWeight,
    vnodes: membership.ring.vnodeCount,
    startupMs,
    steadyCpuPerSec: steadyCpu / (steadyUntil / 1000),
    cpuPerSec: cpuTotalMs / seconds,
    heartbeatCpuUs: (stats.heartbeatCpuMs / stats.heartbeats) * 1000,
    changeCpuMs: stats.changeCpuMs,
    ringReplyMaxBytes: Math.max(...payloads),
    ringReplyMinBytes: Math.min(...payloads),
    ringBytesPerChange: stats.ringBytes / Math.max(1, reach.length),
    reach,
    applyMs: sample.applyMs,
    epochs: membership.epoch,
    died: changes.some((c) => c.what === 'dead'),
  };
}

module.exports = { simulate, HEARTBEAT_MS, FAILURE_TIMEOUT_MS };
