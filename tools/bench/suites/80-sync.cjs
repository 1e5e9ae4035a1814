'use strict';
// Anti-entropy on one node's store, in process: the digest pass a sync round starts with,
// and the SYNC_KEYS reply for one differing bucket, on 100,000 records co-owned with peers.
const path = require('node:path');
const { HybridLogicalClock, MemoryEngine, Store } = require('@kv/node');
const { Ring, RingEpoch, token } = require('@kv/ring');

const dist = path.join(__dirname, '..', '..', '..', 'packages', 'node', 'dist');
const { CoOwnedDigests } = require(path.join(dist, 'sync-source.js'));
const { PEER_COMMANDS } = require(path.join(dist, 'peer-commands.js'));
const { encodeBuckets, bucketOf } = require(path.join(dist, 'digest.js'));

const RECORDS = 100_000;
const MEMBERS = ['10.0.0.1:5001', '10.0.0.2:5001', '10.0.0.3:5001', '10.0.0.4:5001'];
const SELF = MEMBERS[0];
const PEER = MEMBERS[1];

function median(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(fn, runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

const ms = (x) => `${x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString('en-US')} ms`;

module.exports = {
  name: 'sync',
  title: 'Anti-entropy on 100,000 records',
  description:
    'One node of four (RF 3) holds 100,000 records of 100 bytes, in process (no sockets). The digest pass is what a sync round starts with (digests of the records co-owned with each of the 3 peers); SYNC_KEYS is the reply a peer gets for one differing bucket. Medians of repeated runs. Run: `npm run build && node tools/bench/run.cjs sync`.',
  async run({ log }) {
    const ring = new Ring(MEMBERS, { replicationFactor: 3 });
    const placement = new RingEpoch(1, ring, ring);
    const store = new Store(new MemoryEngine(), new HybridLogicalClock());
    const value = Buffer.alloc(100, 'v');
    for (let i = 0; i < RECORDS; i++) {
      await store.apply(Buffer.from(`key:${i}`), {
        value,
        ts: 1_700_000_000_000 * 1024 + i,
        origin: SELF,
        expiresAt: 0,
      });
    }
    log(`${RECORDS} records loaded`);
    const pass = await timed(() => new CoOwnedDigests(store, SELF, 0).pass(placement), 7);
    log(`digest pass ${ms(pass)}`);
    // A bucket holding records co-owned with the peer, as a differing bucket would.
    const owned = ring.preferenceList(Buffer.from('key:0'), 3);
    const peer = owned.find((id) => id !== SELF) ?? PEER;
    const bucket = bucketOf(token(Buffer.from('key:0')));
    const ctx = {
      selfId: SELF,
      store,
      placement: () => placement,
      digests: new CoOwnedDigests(store, SELF),
    };
    const keys = PEER_COMMANDS.SYNC_KEYS;
    const args = [
      Buffer.from('SYNC_KEYS'),
      Buffer.from(peer),
      Buffer.from('1'),
      encodeBuckets([bucket]),
    ];
    let entries = 0;
    const oneBucket = await timed(async () => {
      const reply = await keys.run(args, ctx);
      entries = (reply.length - 1) / 3;
    }, 21);
    log(`SYNC_KEYS one bucket ${ms(oneBucket)} (${entries} entries)`);
    return {
      headers: ['measure', 'value'],
      rows: [
        ['digest pass over 100,000 records (digests for 3 peers)', ms(pass)],
        [`SYNC_KEYS for one bucket (${entries} records in it)`, ms(oneBucket)],
      ],
    };
  },
};
