#!/usr/bin/env node
// `npm start`: runs the most complete thing the workspace has built. Until the local
// cluster command exists, that is a RESP server on 127.0.0.1:5000 answering PING, ECHO,
// SET and GET from memory, so redis-cli and nc can be pointed at it.
'use strict';
const { createRespServer, ReplyError, OK, SimpleString } = require('@kv/protocol');

const port = Number(process.env.KV_PORT ?? 5000);
const data = new Map();
const PONG = new SimpleString('PONG');

const commands = {
  PING: (args) => (args.length > 1 ? args[1] : PONG),
  ECHO: (args) => args[1] ?? new ReplyError('WRONGARGS ECHO takes one argument'),
  SET: (args) => {
    if (args.length !== 3) return new ReplyError('WRONGARGS SET takes a key and a value');
    data.set(args[1].toString('latin1'), Buffer.from(args[2]));
    return OK;
  },
  GET: (args) =>
    args.length === 2
      ? (data.get(args[1].toString('latin1')) ?? null)
      : new ReplyError('WRONGARGS GET takes a key'),
};

const server = createRespServer({
  handler(args) {
    const run = commands[args[0].toString().toUpperCase()];
    return run ? run(args) : new ReplyError(`ERR unknown command '${args[0]}'`);
  },
});

server.listen(port, '127.0.0.1').then(
  (address) => {
    console.log(
      `[kv] RESP server on ${address.address}:${address.port} (PING, ECHO, SET, GET; in memory)`,
    );
    console.log(
      `[kv] try: printf 'SET greeting "hello world"\\r\\nGET greeting\\r\\n' | nc 127.0.0.1 ${address.port}`,
    );
  },
  (err) => {
    console.error(
      `[kv] cannot listen on 127.0.0.1:${port} (${err.code}): is something else using it? Set KV_PORT.`,
    );
    process.exit(1);
  },
);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(1000).then(() => process.exit(0));
  });
}
