import { createClient, type ClientOptions, type KvClient } from '@kv/client';

const open = new Set<KvClient>();

/** A @kv/client client for the test, closed after it by the harness (see after-each.ts). */
export function openClient(options: ClientOptions): KvClient {
  const client = createClient(options);
  open.add(client);
  return client;
}

/** Closes every client opened with {@link openClient}. */
export async function closeClients(): Promise<void> {
  const clients = [...open];
  open.clear();
  await Promise.all(clients.map((c) => c.close()));
}
