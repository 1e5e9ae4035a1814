/**
 * The node's earlier names for the ring epoch model, which lives in `@kv/ring` so that the
 * coordinator, the nodes and the clients share one definition.
 *
 * @deprecated import `RingEpoch`, `Phase` and `WriteReplicas` from `@kv/ring`.
 */
export { RingEpoch as Placement, Phase, type WriteReplicas } from '@kv/ring';
