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
    // A cause that never comes: the failure stands for it after a turn.
    const pending = commitFailure(new Promise(() => undefined));
    await expect(commitFailureCause(pending)).resolves.toBe(pending);
    const plain = new Error('MDB_MAP_FULL');
    await expect(commitFailureCause(plain)).resolves.toBe(plain);
    await expect(commitFailureCause('disk')).resolves.toEqual(new Error('disk'));
  });

  it('answers a refused write -UNAVAILABLE with the cause', () => {
    const err = new CommitFailedError(new Error('Input/output error'));
    expect(err.message).toBe(
      'UNAVAILABLE the database could not commit the write (Input/output error): is its disk full?',
    );
  });

  it('tells its listener once when commits begin to fail and once when one succeeds again', () => {
    const told: (string | undefined)[] = [];
    const trouble = new CommitTrouble((cause) => told.push(cause?.message));
    trouble.succeeded();
    trouble.failed(new Error('EIO'));
    trouble.failed(new Error('ENOSPC'));
    trouble.succeeded();
    trouble.succeeded();
    trouble.failed(new Error('ENOSPC'));
    expect(told).toEqual(['EIO', undefined, 'ENOSPC']);
  });

  describe('survivePendingCommitFailures', () => {
    const target = (): EventEmitter & NodeJS.Process =>
      new EventEmitter() as EventEmitter & NodeJS.Process;

    it('drops an unhandled commit failure and handles its cause, so neither ends the process', async () => {
      const proc = target();
      const remove = survivePendingCommitFailures(proc);
      const cause = { then: jest.fn() };
      expect(() => proc.emit('unhandledRejection', commitFailure(cause), undefined)).not.toThrow();
      // A thenable is asked a microtask later (lmdb-js's own promise, at once).
      await new Promise(setImmediate);
      expect(cause.then).toHaveBeenCalledTimes(1);
      // A commit failure handled late needs no warning.
      expect(proc.emit('rejectionHandled', undefined)).toBe(true);
      remove();
      expect(proc.listenerCount('unhandledRejection')).toBe(0);
      expect(proc.listenerCount('rejectionHandled')).toBe(0);
    });

    it('lets any other unhandled rejection end the process, as by default', () => {
      const proc = target();
      survivePendingCommitFailures(proc);
      const bug = new TypeError('x is undefined');
      expect(() => proc.emit('unhandledRejection', bug, undefined)).toThrow(bug);
      expect(() => proc.emit('unhandledRejection', 'reason', undefined)).toThrow('reason');
    });
  });
});
