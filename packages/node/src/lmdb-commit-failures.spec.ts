import { EventEmitter } from 'node:events';
import {
  CommitFailedError,
  CommitTrouble,
  commitFailureCause,
  isCommitFailure,
  survivePendingCommitFailures,
} from './lmdb-commit-failures';

/** A rejection shaped as lmdb-js makes it when a transaction fails to commit. */
function commitFailure(commitError: PromiseLike<unknown>): Error {
  return Object.assign(new Error('Commit failed (see commitError for details)'), { commitError });
}

function rejectedWith(err: Error): Promise<never> {
  const promise = Promise.reject(err);
  promise.catch(() => undefined);
  return promise;
}

describe('lmdb-js commit failures', () => {
  it('recognises a commit failure by its commitError, and nothing else', () => {
    expect(isCommitFailure(commitFailure(rejectedWith(new Error('EIO'))))).toBe(true);
    expect(isCommitFailure(new Error('Commit failed'))).toBe(false);
    expect(isCommitFailure(Object.assign(new Error('x'), { commitError: 'EIO' }))).toBe(false);
    expect(isCommitFailure({ commitError: rejectedWith(new Error('EIO')) })).toBe(false);
    expect(isCommitFailure(undefined)).toBe(false);
  });

  it('finds the cause, the failure itself when the cause does not say, and wraps what is not an error', async () => {
    const io = new Error('Input/output error');
    await expect(commitFailureCause(commitFailure(rejectedWith(io)))).resolves.toBe(io);
    const resolved = commitFailure(Promise.resolve(true));
    await expect(commitFailureCause(resolved)).resolves.toBe(resolved);
    const plain = new Error('MDB_MAP_FULL');
    await expect(commitFailureCause(plain)).resolves.toBe(plain);
    await expect(commitFailureCause('disk')).resolves.toEqual(new Error('disk'));
  });

  it('waits up to a second for a cause that comes late, then lets the failure stand for it', async () => {
    jest.useFakeTimers();
    try {
      let reject!: (err: Error) => void;
      const late = commitFailure(new Promise((_, r) => (reject = r)));
      const found = commitFailureCause(late);
      await jest.advanceTimersByTimeAsync(500);
      const io = new Error('Input/output error');
      reject(io);
      await expect(found).resolves.toBe(io);
      const never = commitFailure(new Promise(() => undefined));
      const standIn = commitFailureCause(never);
      await jest.advanceTimersByTimeAsync(1000);
      await expect(standIn).resolves.toBe(never);
    } finally {
      jest.useRealTimers();
    }
  });

  it('answers a refused write -UNAVAILABLE with the cause', () => {
    const err = new CommitFailedError(new Error('Input/output error'));
    expect(err.message).toBe(
      'UNAVAILABLE the database could not commit the write (Input/output error): is its disk full?',
    );
  });

  it('tells its listener once when commits begin to fail and once when one succeeds again', async () => {
    const told: (string | undefined)[] = [];
    const trouble = new CommitTrouble((cause) => told.push(cause?.message));
    trouble.succeeded();
    trouble.failed(Promise.resolve(new Error('EIO')));
    trouble.failed(Promise.resolve(new Error('ENOSPC')));
    // What it reports (the node's gauge) follows what it told, not the failure itself.
    expect(trouble.reported).toBe(false);
    await new Promise(setImmediate);
    expect(trouble.reported).toBe(true);
    trouble.succeeded();
    expect(trouble.reported).toBe(false);
    trouble.succeeded();
    trouble.failed(Promise.resolve(new Error('ENOSPC')));
    await new Promise(setImmediate);
    expect(told).toEqual(['EIO', undefined, 'ENOSPC']);
    expect(trouble.reported).toBe(true);
  });

  it('says nothing of a failure whose cause comes after a commit succeeded: what it said last is the state now', async () => {
    const told: (string | undefined)[] = [];
    const trouble = new CommitTrouble((cause) => told.push(cause?.message));
    let cause!: (err: Error) => void;
    trouble.failed(new Promise((resolve) => (cause = resolve)));
    trouble.succeeded();
    cause(new Error('EIO'));
    await new Promise(setImmediate);
    expect(told).toEqual([]);
    expect(trouble.reported).toBe(false);
  });

  describe('survivePendingCommitFailures', () => {
    const target = (): EventEmitter & NodeJS.Process => {
      const proc = new EventEmitter() as EventEmitter & NodeJS.Process;
      proc.emitWarning = jest.fn();
      return proc;
    };
    const promise = (): Promise<never> => rejectedWith(new Error('x'));

    it('drops an unhandled commit failure and handles its cause, so neither ends the process', async () => {
      const proc = target();
      const remove = survivePendingCommitFailures(proc);
      const cause = { then: jest.fn() };
      const dropped = promise();
      expect(() => proc.emit('unhandledRejection', commitFailure(cause), dropped)).not.toThrow();
      // A thenable is asked a microtask later (lmdb-js's own promise, at once).
      await new Promise(setImmediate);
      expect(cause.then).toHaveBeenCalledTimes(1);
      // Handled late (lmdb-js hands it out again): no warning for it, one for any other.
      proc.emit('rejectionHandled', dropped);
      expect(proc.emitWarning).not.toHaveBeenCalled();
      proc.emit('rejectionHandled', promise());
      expect(proc.emitWarning).toHaveBeenCalledWith(
        'Promise rejection was handled asynchronously',
        'PromiseRejectionHandledWarning',
      );
      remove();
      expect(proc.listenerCount('unhandledRejection')).toBe(0);
      expect(proc.listenerCount('rejectionHandled')).toBe(0);
    });

    it('lets any other unhandled rejection end the process, as by default, unless another listener takes it', () => {
      const proc = target();
      survivePendingCommitFailures(proc);
      const bug = new TypeError('x is undefined');
      expect(() => proc.emit('unhandledRejection', bug, promise())).toThrow(bug);
      expect(() => proc.emit('unhandledRejection', 'reason', promise())).toThrow('reason');
      const theirs = jest.fn();
      proc.on('unhandledRejection', theirs);
      expect(() => proc.emit('unhandledRejection', bug, promise())).not.toThrow();
      expect(theirs).toHaveBeenCalledWith(bug, expect.any(Promise));
    });

    it('follows --unhandled-rejections for any other rejection', () => {
      const saved = process.env['NODE_OPTIONS'];
      try {
        process.env['NODE_OPTIONS'] = '--unhandled-rejections=warn-with-error-code';
        const warned = target();
        survivePendingCommitFailures(warned);
        expect(() => warned.emit('unhandledRejection', new Error('bug'), promise())).not.toThrow();
        expect(warned.emitWarning).toHaveBeenCalledWith(
          expect.stringMatching(/^Unhandled promise rejection: Error: bug/),
          'UnhandledPromiseRejectionWarning',
        );
        expect(warned.exitCode).toBe(1);
        for (const options of ['--unhandled-rejections=none', '--unhandled-rejections warn']) {
          // `none` says nothing; under `warn` Node has warned already.
          process.env['NODE_OPTIONS'] = options;
          const quiet = target();
          survivePendingCommitFailures(quiet);
          expect(() => quiet.emit('unhandledRejection', new Error('bug'), promise())).not.toThrow();
          expect(quiet.emitWarning).not.toHaveBeenCalled();
          expect(quiet.exitCode).toBeUndefined();
        }
      } finally {
        if (saved === undefined) delete process.env['NODE_OPTIONS'];
        else process.env['NODE_OPTIONS'] = saved;
      }
    });
  });
});
