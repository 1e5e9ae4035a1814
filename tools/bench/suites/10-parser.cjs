'use strict';
// Parse throughput of @kv/protocol against redis-parser on the same bytes, fed in the
// 64 KiB chunks a socket delivers.
const { RespParser, OK, encodeCommand, encodeReply } = require('@kv/protocol');
const RedisParser = require('redis-parser');
const { opsPerSec } = require('../report.cjs');

const CHUNK = 64 * 1024;
const COMMANDS = 200_000;

function chunked(buf) {
  const chunks = [];
  for (let i = 0; i < buf.length; i += CHUNK) chunks.push(buf.subarray(i, i + CHUNK));
  return chunks;
}

/** Pipelined SET key value / GET key pairs, as a client sends them. */
function requestStream() {
  const value = Buffer.alloc(100, 'v');
  const parts = [];
  for (let i = 0; i < COMMANDS / 2; i++) {
    parts.push(encodeCommand(['SET', `key:${i}`, value]), encodeCommand(['GET', `key:${i}`]));
  }
  return chunked(Buffer.concat(parts));
}

/** The replies a server sends back to that stream: +OK and 100-byte bulk strings. */
function replyStream() {
  const value = Buffer.alloc(100, 'v');
  const ok = encodeReply(OK);
  const parts = [];
  for (let i = 0; i < COMMANDS / 2; i++) parts.push(encodeReply(value), ok);
  return chunked(Buffer.concat(parts));
}

/** Messages per second of one call of `parseAll` over about half a second. */
function round(parseAll, chunks) {
  const start = process.hrtime.bigint();
  let messages = 0;
  let elapsed = 0;
  do {
    messages += parseAll(chunks);
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < 0.5);
  return messages / elapsed;
}

/** Best rate of each parser over alternating rounds, so drift in machine load hits both alike. */
function compare(ours, theirs, chunks) {
  round(ours, chunks); // warm-up
  round(theirs, chunks);
  let a = 0;
  let b = 0;
  for (let i = 0; i < 5; i++) {
    a = Math.max(a, round(ours, chunks));
    b = Math.max(b, round(theirs, chunks));
  }
  return [a, b];
}

function kvParse(mode) {
  return (chunks) => {
    let n = 0;
    const parser = new RespParser(mode);
    const count = () => n++;
    for (const c of chunks) parser.feed(c, count);
    return n;
  };
}

function redisParse(chunks) {
  let n = 0;
  const parser = new RedisParser({
    returnBuffers: true,
    returnReply: () => n++,
    returnError: () => n++,
    returnFatalError: (err) => {
      throw err;
    },
  });
  for (const c of chunks) parser.execute(c);
  return n;
}

module.exports = {
  name: 'parser',
  title: 'Parser: @kv/protocol vs redis-parser',
  description:
    `Messages parsed per second from the same byte stream of ${COMMANDS.toLocaleString('en-US')} pipelined ` +
    'messages (SET key:i <100 bytes> / GET key:i requests, and the matching replies), fed in 64 KiB chunks. ' +
    'Both parsers return values as Buffers (redis-parser `returnBuffers: true`). Best of 5 alternating rounds of half a second each. Target: ratio ≥ 1.0.',
  async run({ log }) {
    const requests = requestStream();
    const replies = replyStream();
    const rows = [];
    for (const [label, chunks, mode] of [
      ['SET/GET requests', requests, 'request'],
      ['SET/GET replies', replies, 'reply'],
    ]) {
      log(`measuring ${label}`);
      const [ours, theirs] = compare(kvParse(mode), redisParse, chunks);
      const ratio = ours / theirs;
      rows.push([
        label,
        opsPerSec(ours),
        opsPerSec(theirs),
        `${ratio.toFixed(2)}×`,
        ratio >= 1 ? 'met' : 'not met',
      ]);
    }
    return { headers: ['stream', '@kv/protocol', 'redis-parser', 'ratio', 'target ≥ 1.0'], rows };
  },
};
