/** How an address the client asks for the ring came to it. */
export const SourceRole = {
  /** Given as a coordinator: asked first, and its ring is taken whatever its epoch. */
  coordinator: 'coordinator',
  /** Given as a seed: any member, node or coordinator, asked when no coordinator answers. */
  seed: 'seed',
  /** A node of the ring the client holds, asked when no coordinator or seed answers. */
  member: 'member',
} as const;

/** One of {@link SourceRole}. */
export type SourceRole = (typeof SourceRole)[keyof typeof SourceRole];

/** An address that was asked and did not help, and why. */
export interface SourceAttempt {
  /** `host:port`. */
  readonly address: string;
  readonly role: SourceRole;
  /** `ECONNREFUSED`, `no reply within 1000 ms`, `ERR unknown command ...`. */
  readonly reason: string;
}
