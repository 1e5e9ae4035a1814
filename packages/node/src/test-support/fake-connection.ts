import type { ServerConnection } from '@kv/protocol';

/** A client connection as commands see it, with state of its own and no socket behind it. */
export function fakeConnection(): ServerConnection {
  return {
    id: 1,
    remoteAddress: '127.0.0.1:40000',
    readPath: 'stream',
    locals: {},
    close: () => undefined,
    priority: false,
    prioritize: () => undefined,
  };
}
