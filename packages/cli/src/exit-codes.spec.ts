import {
  ClientClosedError,
  ClusterUnavailableError,
  CoordinatorUnreachableError,
  InvalidClientOptionError,
  NoNodesError,
} from '@kv/client';
import { ConnectError, ReplyError, RequestTimeoutError, UnreachableError } from '@kv/protocol';
import { PortInUseError, ProcessExitedError, UsageError } from './errors';
import { ExitCode, exitCodeFor, isExpectedError } from './exit-codes';

describe('exitCodeFor', () => {
  it.each([
    ['a usage error', new UsageError('bad'), ExitCode.USAGE],
    ['an invalid client option', new InvalidClientOptionError('bad'), ExitCode.USAGE],
    ['WRONGARGS', new ReplyError('WRONGARGS wrong number of arguments'), ExitCode.USAGE],
    ['TOOLARGE', new ReplyError('TOOLARGE key of 5000 bytes'), ExitCode.USAGE],
    [
      'UNAVAILABLE',
      new ReplyError('UNAVAILABLE 1 of 2 replicas acknowledged'),
      ExitCode.UNAVAILABLE,
    ],
    ['TIMEOUT', new ReplyError('TIMEOUT replica did not answer'), ExitCode.UNAVAILABLE],
    [
      'OOM',
      new ReplyError("OOM command not allowed when used memory > 'maxmemory'"),
      ExitCode.UNAVAILABLE,
    ],
    [
      'an unreachable coordinator',
      new CoordinatorUnreachableError('127.0.0.1:5000', 'ECONNREFUSED'),
      ExitCode.UNAVAILABLE,
    ],
    ['no nodes', new NoNodesError('127.0.0.1:5000'), ExitCode.UNAVAILABLE],
    ['an unavailable cluster', new ClusterUnavailableError('GET k', []), ExitCode.UNAVAILABLE],
    ['a request timeout', new RequestTimeoutError(1000), ExitCode.UNAVAILABLE],
    [
      'an unreachable node',
      new UnreachableError('127.0.0.1:5001', 'ECONNREFUSED'),
      ExitCode.UNAVAILABLE,
    ],
    [
      'a refused connection',
      new ConnectError('127.0.0.1:5001', 'ECONNREFUSED'),
      ExitCode.UNAVAILABLE,
    ],
    ['another server error', new ReplyError('NOAUTH authentication required'), ExitCode.FAILURE],
    ['a closed client', new ClientClosedError(), ExitCode.FAILURE],
    ['a port in use', new PortInUseError([5001]), ExitCode.FAILURE],
    ['a defect', new TypeError('x is undefined'), ExitCode.FAILURE],
  ])('maps %s', (_, err, code) => {
    expect(exitCodeFor(err)).toBe(code);
  });

  it('tells expected failures from defects', () => {
    expect(isExpectedError(new NoNodesError('c'))).toBe(true);
    expect(isExpectedError(new ReplyError('ERR x'))).toBe(true);
    expect(isExpectedError(new ProcessExitedError('node 127.0.0.1:5001', 1, null))).toBe(true);
    expect(isExpectedError(new TypeError('x'))).toBe(false);
    expect(isExpectedError('a string')).toBe(false);
  });
});

describe('error messages', () => {
  it('name the ports and the process', () => {
    expect(new PortInUseError([5001]).message).toMatch(/^port 5001 is already in use/);
    expect(new PortInUseError([5000, 5002]).message).toMatch(
      /^ports 5000, 5002 are already in use/,
    );
    expect(new ProcessExitedError('node 127.0.0.1:5001', null, 'SIGKILL').message).toMatch(
      /^node 127\.0\.0\.1:5001 exited unexpectedly \(signal SIGKILL\)/,
    );
  });
});
