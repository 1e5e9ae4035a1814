import type { Reply } from '@kv/protocol';
import { PEER_COMMANDS, type PeerContext } from '../peer-commands';
import type { Store } from '../store';
import { fakeConnection } from './fake-connection';

const connection = fakeConnection();

/**
 * Serves a node-to-node request as a replica holding `store` would, through the commands'
 * own declarations; `beforeReplicaWrite` stands in for the replica's clock fence.
 */
export function serveAsReplica(
  store: Store,
  args: Buffer[],
  beforeReplicaWrite: (records?: number) => void = () => undefined,
): Reply | Promise<Reply> {
  const name = (args[0] as Buffer).toString();
  const command = PEER_COMMANDS[name];
  if (command === undefined) throw new Error(`no peer command ${name}`);
  const context = { store, beforeReplicaWrite, answersAlone: () => true } as unknown as PeerContext;
  return command.run(args, context, connection);
}
