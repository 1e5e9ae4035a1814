/**
 * @packageDocumentation
 * RESP2 framing for kv: an incremental parser for requests (multibulk and inline commands)
 * and replies, an encoder, configurable limits with typed errors, a pipelined client
 * connection and a server loop that keeps replies in order with bounded buffers, a command
 * router (declarations with scopes, arity checks, hooks before dispatch), and the socket
 * factories that decide how bytes travel.
 */
export {
  ErrorCode,
  RespError,
  ProtocolError,
  LimitExceededError,
  TooLargeError,
  ReplyError,
  ConnectError,
  ConnectionClosedError,
  RequestTimeoutError,
  RequestAbortedError,
  QueueFullError,
  UnreachableError,
  DataDirLockedError,
} from './errors';
export { lockDataDir, LOCK_FILE, type DataDirLock } from './data-dir-lock';
export { DEFAULT_LIMITS, resolveLimits, type ProtocolLimits } from './limits';
export { SimpleString, OK, type RespValue, type Reply, type CommandArg } from './types';
export { splitInline } from './inline';
export { parseTimeReply, timeReply } from './time-reply';
export { LoopWatch, earliestArrival, LOOP_WATCH_TICK_MS } from './loop-watch';
export { RespParser, type ParserMode, type ParsedRequest } from './parser';
export { RespWriter, encodeCommand, encodeReply } from './writer';
export {
  connectTcp,
  listenTcp,
  type ConnectFactory,
  type ConnectTarget,
  type ListenFactory,
} from './transport';
export { RespConnection, type ConnectionOptions, type RequestOptions } from './connection';
export { ConnectionPool, parseAddress, type ConnectionPoolOptions } from './pool';
export {
  Scope,
  quoteArg,
  type CommandSpec,
  type CommandTable,
  type CommandHook,
  type RoutedCommand,
} from './command';
export { CommandRouter, type CommandRouterOptions } from './router';
export { renderCommandTable, docSection, replaceDocSection } from './command-doc';
export {
  RespServer,
  createRespServer,
  type RespServerOptions,
  type CommandHandler,
  type ServerConnection,
} from './server';
