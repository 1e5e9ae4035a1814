import { InvalidClientOptionError } from './errors';
import { DEFAULT_CLIENT_OPTIONS, resolveClientOptions } from './options';

describe('resolveClientOptions', () => {
  it('fills in every default, and keeps what is given', () => {
    expect(resolveClientOptions({})).toEqual(DEFAULT_CLIENT_OPTIONS);
    expect(resolveClientOptions({ retries: 0, coordinator: 'h:1', maxPending: undefined })).toEqual(
      { ...DEFAULT_CLIENT_OPTIONS, retries: 0, coordinator: 'h:1' },
    );
  });

  it('refuses a coordinator that is not host:port and counts out of range', () => {
    expect(() => resolveClientOptions({ coordinator: 'nowhere' })).toThrow(
      "coordinator must be host:port, got 'nowhere'",
    );
    expect(() => resolveClientOptions({ retries: -1 })).toThrow(InvalidClientOptionError);
    expect(() => resolveClientOptions({ connectTimeoutMs: 0.5 })).toThrow(
      'connectTimeoutMs must be an integer ≥ 1, got 0.5',
    );
  });
});
