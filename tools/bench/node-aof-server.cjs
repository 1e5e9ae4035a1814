'use strict';
// The least a Node.js server does to answer SETs as Redis does with `appendfsync always`:
// each command's bytes appended to a file, the file synced, and the replies written only
// after the sync. Writes are gathered into one sync as a kv node's write-ahead log gathers
// them (the turn that took the first write, and up to GATHER_TURNS more while each brings
// more writes; a lone write does not wait). There is no store and no parsing beyond finding
// where each command ends, so what it costs is what the runtime costs (sockets, streams,
// the event loop, the sync) with kv's batching, apart from anything else kv does. The
// durable suite runs it beside kv and Redis as a reference. Unlike kv's log, it syncs every
// frame on the event loop (kv hands a frame over 8 KiB, as at -P 16, to the thread pool). It
// answers PING with +PONG, CONFIG with an empty array (redis-benchmark asks for its settings
// first) and every other command with +OK; a malformed request gets -ERR after the replies
// owed before it, and its connection is closed. A benchmark's server: not one to expose.
//
// Usage: node node-aof-server.cjs PORT FILE   (listens on 127.0.0.1:PORT; FILE is replaced)
const fs = require('node:fs');
const net = require('node:net');

/** The file is zero-filled and written round, as kv's log segments are used. */
const FILE_BYTES = 64 * 1024 * 1024;
/** A connection whose unfinished command grows past this is closed. */
const MAX_PENDING_BYTES = 1024 * 1024;
/** As packages/node's write-ahead log: turns a sync waits while writes keep coming. */
const GATHER_TURNS = 4;

const [port, file] = process.argv.slice(2);
if (!port || !file) {
  console.error('usage: node node-aof-server.cjs PORT FILE');
  process.exit(2);
}
const fd = fs.openSync(file, 'w');
fs.writeSync(fd, Buffer.alloc(FILE_BYTES));
fs.fdatasyncSync(fd);
let position = 0;

const PONG = Buffer.from('+PONG\r\n');
const EMPTY_ARRAY = Buffer.from('*0\r\n');
const OK = '+OK\r\n';
/** `+OK\r\n` n times, kept by n up to a pipeline depth of OKS_KEPT. */
const OKS_KEPT = 1024;
const oks = new Map();
const okTimes = (n) => {
  let reply = oks.get(n);
  if (!reply) {
    reply = Buffer.from(OK.repeat(n));
    if (n <= OKS_KEPT) oks.set(n, reply);
  }
  return reply;
};

/**
 * Commands' bytes to append in this turn, and the replies owed after it, by connection: a
 * number is a run of that many +OK, a buffer another reply, in the order of the commands.
 */
let logged = [];
let owed = new Map();
let turnQueued = false;
/** Commands logged when the first write of a sync came and at the last turn; turns waited. */
let began = 0;
let seen = 0;
let turns = 0;

function endTurn() {
  const alone = turns === 0 && logged.length === began;
  if (!alone && logged.length !== seen && turns < GATHER_TURNS) {
    seen = logged.length;
    turns++;
    setImmediate(endTurn);
    return;
  }
  turnQueued = false;
  const chunks = logged;
  const replies = owed;
  logged = [];
  owed = new Map();
  let bytes = 0;
  for (const chunk of chunks) bytes += chunk.length;
  if (bytes > 0) {
    if (position + bytes > FILE_BYTES) position = 0;
    fs.writevSync(fd, chunks, position);
    position += bytes;
    fs.fdatasyncSync(fd);
  }
  for (const [socket, due] of replies) {
    if (socket.destroyed) continue;
    const parts = due.map((part) => (typeof part === 'number' ? okTimes(part) : part));
    socket.write(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    if (refused.has(socket)) socket.destroySoon();
  }
}

/** Connections that sent a malformed request: closed once their last replies are written. */
const refused = new WeakSet();

/** Arguments of the command {@link commandEnd} last found. */
let argumentsFound = 0;

/**
 * The end of the RESP array command starting at `start` in `buf` (`*N\r\n` then N bulk
 * strings), or -1 if it is not all there yet. Throws on anything else.
 */
function commandEnd(buf, start) {
  if (buf[start] !== 0x2a) throw new Error('expected a RESP array');
  let at = start + 1;
  const readNumber = () => {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return -1;
    const n = Number(buf.toString('latin1', at, eol));
    if (!Number.isInteger(n) || n < 0) throw new Error('bad length');
    at = eol + 2;
    return n;
  };
  const args = readNumber();
  if (args < 0) return -1;
  for (let i = 0; i < args; i++) {
    if (at >= buf.length) return -1;
    if (buf[at] !== 0x24) throw new Error('expected a bulk string');
    at++;
    const len = readNumber();
    if (len < 0) return -1;
    at += len + 2;
    if (at > buf.length) return -1;
  }
  argumentsFound = args;
  return at;
}

/** The command's name, upper-cased (its first bulk string; none for an empty array). */
function commandName(buf, start) {
  if (argumentsFound === 0) return '';
  const nameAt = buf.indexOf('\r\n', buf.indexOf('\r\n', start) + 2) + 2;
  return buf.toString('latin1', nameAt, buf.indexOf('\r\n', nameAt)).toUpperCase();
}

function serve(socket) {
  let pending = null;
  socket.on('error', () => undefined);
  socket.on('data', (chunk) => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    const loggedBefore = logged.length;
    let start = 0;
    let due = owed.get(socket);
    const owe = (reply) => {
      if (!due) owed.set(socket, (due = []));
      const last = due.length - 1;
      if (reply === 1 && typeof due[last] === 'number') due[last]++;
      else due.push(reply);
    };
    try {
      for (;;) {
        if (start === buf.length) break;
        const end = commandEnd(buf, start);
        if (end < 0) {
          pending = buf.subarray(start);
          if (pending.length > MAX_PENDING_BYTES) throw new Error('command too large');
          break;
        }
        const name = commandName(buf, start);
        if (name === 'PING') owe(PONG);
        else if (name === 'CONFIG') owe(EMPTY_ARRAY);
        else {
          logged.push(buf.subarray(start, end));
          owe(1);
        }
        start = end;
      }
    } catch (err) {
      // Answered after the replies owed before it; nothing more is read.
      owe(Buffer.from(`-ERR ${err.message}\r\n`));
      refused.add(socket);
      socket.removeAllListeners('data');
      socket.pause();
    }
    if (socket.writableLength > MAX_PENDING_BYTES) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
    if (due && !turnQueued) {
      turnQueued = true;
      turns = 0;
      // The count once the first write was logged: any other, even from this input, is one
      // more writer's.
      began = loggedBefore + 1;
      seen = 0;
      setImmediate(endTurn);
    }
  });
}

const server = net.createServer({ noDelay: true }, serve);
server.listen(Number(port), '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
