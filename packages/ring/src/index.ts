/**
 * @packageDocumentation
 * Consistent hashing for kv.
 */
export { token } from './token';
