'use strict';
// Writes many keys into a RESP server as fast as it takes them: SET commands encoded with
// @kv/protocol, sent in large batches over one socket with a few batches in flight.
const net = require('node:net');
const { RespParser, encodeCommand } = require('@kv/protocol');

/**
 * Sends `SET key:<i> <value>` for i = 0 .. count - 1 to 127.0.0.1:port and resolves once
 * every reply arrived. Rejects on the first error reply, naming it.
 */
function loadKeys(port, count, valueSize, { batch = 5000, window = 4 } = {}) {
  const value = Buffer.alloc(valueSize, 'x');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const parser = new RespParser('reply');
    let sent = 0;
    let replies = 0;
    let settled = false;
    let draining = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    // Keeps `window` batches outstanding: enough to keep the server busy, bounded memory.
    const fill = () => {
      if (draining || settled) return;
      while (sent < count && sent - replies < batch * window) {
        const end = Math.min(count, sent + batch);
        const parts = [];
        for (let i = sent; i < end; i++) parts.push(encodeCommand(['SET', `key:${i}`, value]));
        sent = end;
        if (!socket.write(Buffer.concat(parts))) {
          draining = true;
          socket.once('drain', () => {
            draining = false;
            fill();
          });
          return;
        }
      }
    };
    socket.setNoDelay(true);
    socket.on('connect', fill);
    socket.on('error', (err) => fail(new Error(`loading 127.0.0.1:${port}: ${err.message}`)));
    socket.on('close', () =>
      fail(
        new Error(`127.0.0.1:${port} closed the connection after ${replies} of ${count} replies`),
      ),
    );
    socket.on('data', (chunk) => {
      try {
        parser.feed(chunk, (reply) => {
          replies++;
          if (reply instanceof Error)
            fail(new Error(`SET key:${replies - 1} failed: ${reply.message}`));
        });
      } catch (err) {
        fail(err);
        return;
      }
      if (replies === count && !settled) {
        settled = true;
        socket.end();
        resolve();
      } else {
        fill();
      }
    });
  });
}

module.exports = { loadKeys };
