import { ConnectionPool, ReplyError, UnreachableError } from '@kv/protocol';
import { CoordinatorUnreachableError } from './errors';
import { parseNodeList, type NodeStatus } from './node-status';
import type { RequestOptions } from './options';
import { isAuthRefusal } from './ring-source';
import { SourceRole, type SourceAttempt } from './source-attempt';

/** What the operator commands need of the client they serve. */
export interface AdminClient {
  readonly pool: ConnectionPool;
  readonly coordinators: readonly string[];
  readonly seeds: readonly string[];
  /** Throws `ClientClosedError` once the client is closed. */
  checkOpen(): void;
}

/** `LIST_NODES` for {@link KvClient.listNodes}: coordinators in order, then the seeds. */
export async function listNodes(
  client: AdminClient,
  options: { all?: boolean } & RequestOptions,
): Promise<NodeStatus[]> {
  client.checkOpen();
  const args = options.all ? ['LIST_NODES', 'ALL'] : ['LIST_NODES'];
  const attempts: SourceAttempt[] = [];
  const asked: [string, SourceRole][] = [
    ...client.coordinators.map((c): [string, SourceRole] => [c, SourceRole.coordinator]),
    ...client.seeds.map((s): [string, SourceRole] => [s, SourceRole.seed]),
  ];
  for (const [address, role] of asked) {
    try {
      return parseNodeList(await client.pool.send(address, args, options));
    } catch (err) {
      client.checkOpen();
      if (err instanceof UnreachableError) attempts.push({ address, role, reason: err.reason });
      else if (role === SourceRole.seed && err instanceof ReplyError && !isAuthRefusal(err))
        attempts.push({ address, role, reason: notACoordinator(err) });
      else throw err;
    }
  }
  const [first] = attempts as [SourceAttempt];
  throw new CoordinatorUnreachableError(first.address, first.reason, { attempts });
}

/** Sends `args` to `node` and answers its reply as text (`INFO`, `DECOMMISSION`, `BACKUP`). */
export async function adminCommand(
  client: AdminClient,
  node: string,
  args: string[],
  options: RequestOptions,
): Promise<string> {
  client.checkOpen();
  const reply = await client.pool.send(node, args, options);
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply);
}

/** Why a seed that refused `LIST_NODES` was passed over: a node does not know the command. */
function notACoordinator(err: ReplyError): string {
  return /^unknown command/.test(err.message.replace(/^ERR /, ''))
    ? 'not a coordinator'
    : `not a coordinator (${err.message})`;
}
