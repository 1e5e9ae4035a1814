/**
 * @packageDocumentation
 * RESP2 framing for kv: an incremental parser for requests (multibulk and inline commands)
 * and replies, an encoder, configurable limits with typed errors, a pipelined client
 * connection and a server loop that keeps replies in order with bounded buffers, a command
 * router (declarations with scopes, arity checks, hooks before dispatch), and the socket
 * factories that decide how bytes travel: plain TCP or TLS. For observability: a small
 * read-only HTTP endpoint serving `/metrics` (and the coordinator's dashboard) and a strict
 * parser of the Prometheus text format.
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
  OverloadedError,
  AuthenticationError,
  InvalidUsersError,
  InvalidSecretError,
  TlsConfigError,
  ClientCertificateError,
  describeTlsFailure,
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
  connectTls,
  listenTls,
  TLS_DEFAULTS,
  type ConnectFactory,
  type ConnectTarget,
  type ListenFactory,
  type Pem,
  type TlsServerOptions,
  type TlsClientOptions,
} from './transport';
export { readChunks, type ChunkReader, type ReadPath } from './socket-reads';
export {
  loadServerTls,
  loadClientTls,
  readPemFile,
  describeServerTls,
  handshakeFailureLevel,
  type ServerTls,
  type TlsFileSettings,
  type TlsClientFiles,
} from './tls-files';
export {
  createDevCertificates,
  devCertificatePaths,
  OpensslError,
  type DevCertificates,
  type DevCertificateOptions,
} from './dev-certificates';
export { RespConnection, type ConnectionOptions, type RequestOptions } from './connection';
export { ConnectionPool, parseAddress, type ConnectionPoolOptions } from './pool';
export {
  Scope,
  Access,
  quoteArg,
  type CommandSpec,
  type CommandTable,
  type CommandHook,
  type RoutedCommand,
} from './command';
export {
  AccessControl,
  AUTH_COMMANDS,
  refusalOf,
  type AccessControlOptions,
  type AuthContext,
  type AuthFailure,
  type Identity,
} from './access-control';
export {
  handshakeFor,
  memberHandshake,
  userHandshake,
  type Credentials,
  type Handshake,
} from './auth-handshake';
export {
  MEMBER_AUTH_CONTEXT,
  MIN_SECRET_BYTES,
  NONCE_BYTES,
  createNonce,
  memberProof,
  verifyMemberProof,
  type RandomSource,
} from './member-auth';
export { DEFAULT_USER, Permission, UserTable, hashPassword, parseUsers, type User } from './users';
export {
  accessSettingsProblem,
  isLoopbackHost,
  loadAccessSettings,
  readClusterSecret,
  type AccessSettings,
  type AccessSources,
} from './access-settings';
export { CommandRouter, type CommandRouterOptions } from './router';
export { renderCommandTable, docSection, replaceDocSection } from './command-doc';
export {
  RespServer,
  createRespServer,
  type RespServerOptions,
  type CommandHandler,
  type ServerConnection,
} from './server';
export {
  createHttpEndpoint,
  type HttpEndpoint,
  type HttpEndpointOptions,
  type HttpReply,
  type HttpRoute,
  type MetricsSource,
} from './http-endpoint';
export {
  parseExposition,
  sampleValue,
  ExpositionError,
  type MetricFamily,
  type Sample,
} from './exposition';
