/** Base class of every error this package throws, so callers can catch them as a group. */
export class RingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RingError';
  }
}

/** A lookup (primary, preference list, fallbacks) was made on a ring with no members. */
export class EmptyRingError extends RingError {
  constructor(options?: ErrorOptions) {
    super('the ring has no members: add at least one member before looking up keys', options);
    this.name = 'EmptyRingError';
  }
}

/** Two members share an id; ids identify physical nodes and must be unique. */
export class DuplicateMemberError extends RingError {
  /** The repeated id. */
  readonly id: string;

  constructor(id: string, options?: ErrorOptions) {
    super(`member ${JSON.stringify(id)} appears more than once: ids must be unique`, options);
    this.name = 'DuplicateMemberError';
    this.id = id;
  }
}

/** A member id is not a non-empty, well-formed string. */
export class InvalidMemberIdError extends RingError {
  /** The rejected value. */
  readonly id: unknown;

  constructor(id: unknown, options?: ErrorOptions) {
    super(
      `invalid member id ${describe(id)}: an id must be a non-empty string without lone surrogates`,
      options,
    );
    this.name = 'InvalidMemberIdError';
    this.id = id;
  }
}

/** A member weight is not a finite number greater than 0. */
export class InvalidWeightError extends RingError {
  /** The member the weight was given for. */
  readonly id: string;
  /** The rejected value. */
  readonly weight: unknown;

  constructor(id: string, weight: unknown, options?: ErrorOptions) {
    super(
      `invalid weight ${describe(weight)} for member ${JSON.stringify(id)}: a weight must be a finite number greater than 0`,
      options,
    );
    this.name = 'InvalidWeightError';
    this.id = id;
    this.weight = weight;
  }
}

/** A member zone is not a string. */
export class InvalidZoneError extends RingError {
  /** The member the zone was given for. */
  readonly id: string;
  /** The rejected value. */
  readonly zone: unknown;

  constructor(id: string, zone: unknown, options?: ErrorOptions) {
    super(
      `invalid zone ${describe(zone)} for member ${JSON.stringify(id)}: a zone must be a string ("" or absent for the default zone)`,
      options,
    );
    this.name = 'InvalidZoneError';
    this.id = id;
    this.zone = zone;
  }
}

/** A member's host label is not a non-empty string. */
export class InvalidHostError extends RingError {
  /** The member the host was given for. */
  readonly id: string;
  /** The rejected value. */
  readonly host: unknown;

  constructor(id: string, host: unknown, options?: ErrorOptions) {
    super(
      `invalid host ${describe(host)} for member ${JSON.stringify(id)}: a host must be a non-empty string (or absent for the host in the id)`,
      options,
    );
    this.name = 'InvalidHostError';
    this.id = id;
    this.host = host;
  }
}

/** A ring option is out of range or of the wrong type. */
export class InvalidOptionsError extends RingError {
  /** Name of the offending option. */
  readonly option: string;
  /** The rejected value. */
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string, options?: ErrorOptions) {
    super(`invalid ring option ${option}=${describe(value)}: expected ${expected}`, options);
    this.name = 'InvalidOptionsError';
    this.option = option;
    this.value = value;
  }
}

/** A member count passed to a lookup (`n`) is not an integer of at least 1. */
export class InvalidCountError extends RingError {
  /** The rejected value. */
  readonly count: unknown;

  constructor(count: unknown, options?: ErrorOptions) {
    super(`invalid member count ${describe(count)}: expected an integer of at least 1`, options);
    this.name = 'InvalidCountError';
    this.count = count;
  }
}

/** A ring epoch number is not a non-negative integer. */
export class InvalidEpochError extends RingError {
  /** Stable code of this condition. */
  readonly code = 'INVALID_EPOCH';
  /** The rejected value. */
  readonly epoch: unknown;

  constructor(epoch: unknown, options?: ErrorOptions) {
    super(`invalid ring epoch ${describe(epoch)}: expected an integer of at least 0`, options);
    this.name = 'InvalidEpochError';
    this.epoch = epoch;
  }
}

/** `remove` or `reweight` named a member the ring does not have. */
export class UnknownMemberError extends RingError {
  /** The id that was not found. */
  readonly id: string;

  constructor(id: string, options?: ErrorOptions) {
    super(`member ${JSON.stringify(id)} is not in the ring`, options);
    this.name = 'UnknownMemberError';
    this.id = id;
  }
}

/** The members and options would create more virtual nodes than a ring may hold. */
export class RingTooLargeError extends RingError {
  /** Virtual nodes the ring would need. */
  readonly vnodes: number;
  /** Most virtual nodes a ring may hold. */
  readonly limit: number;

  constructor(vnodes: number, limit: number, options?: ErrorOptions) {
    super(
      `the ring would have ${vnodes} virtual nodes, more than the limit of ${limit}: lower the weights or vnodesPerWeight`,
      options,
    );
    this.name = 'RingTooLargeError';
    this.vnodes = vnodes;
    this.limit = limit;
  }
}

/** `Ring.fromJSON` was given a value that is not a serialised ring. */
export class InvalidRingJsonError extends RingError {
  constructor(reason: string, options?: ErrorOptions) {
    super(`not a serialised ring: ${reason}`, options);
    this.name = 'InvalidRingJsonError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  return `(${typeof value})`;
}

/** `decodeRingReply` was given something that is not a `RING` reply. */
export class InvalidRingReplyError extends RingError {
  /** Stable code of this condition. */
  readonly code = 'INVALID_RING_REPLY';
  /** What was wrong, e.g. `the ring is not a bulk string`. */
  readonly detail: string;
  constructor(detail: string, options?: ErrorOptions) {
    super(`invalid RING reply: ${detail}`, options);
    this.name = 'InvalidRingReplyError';
    this.detail = detail;
  }
}
