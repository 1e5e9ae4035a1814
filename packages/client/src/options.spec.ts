import { InvalidClientOptionError } from './errors';
import { DEFAULT_CLIENT_OPTIONS, resolveClientOptions } from './options';

const { coordinator: DEFAULT_COORDINATOR, ...DEFAULTS } = DEFAULT_CLIENT_OPTIONS;

describe('resolveClientOptions', () => {
  it('fills in every default, and keeps what is given', () => {
    expect(resolveClientOptions({})).toEqual({
      ...DEFAULTS,
      coordinators: [DEFAULT_COORDINATOR],
      seeds: [],
    });
    expect(resolveClientOptions({ retries: 0, coordinator: 'h:1', maxPending: undefined })).toEqual(
      { ...DEFAULTS, retries: 0, coordinators: ['h:1'], seeds: [] },
    );
  });

  it('reads several coordinators and seeds, as arrays or separated by commas', () => {
    expect(
      resolveClientOptions({ coordinator: 'a:1, b:2,a:1', seeds: ['n:3,n:4', 'n:5'] }),
    ).toMatchObject({
      coordinators: ['a:1', 'b:2'],
      seeds: ['n:3', 'n:4', 'n:5'],
    });
    expect(resolveClientOptions({ coordinator: ['a:1', 'b:2'] }).coordinators).toEqual([
      'a:1',
      'b:2',
    ]);
  });

  it('asks no default coordinator when seeds alone are given', () => {
    expect(resolveClientOptions({ seeds: 'n:3' })).toMatchObject({
      coordinators: [],
      seeds: ['n:3'],
    });
  });

  it('refuses addresses that are not host:port, and an empty list', () => {
    expect(() => resolveClientOptions({ coordinator: 'nowhere' })).toThrow(
      "coordinator must be host:port, got 'nowhere'",
    );
    expect(() => resolveClientOptions({ coordinator: 'a:1,b' })).toThrow(
      "coordinator must be host:port, got 'b'",
    );
    expect(() => resolveClientOptions({ seeds: ['n:99999'] })).toThrow(
      "seeds must be host:port, got 'n:99999'",
    );
    expect(() => resolveClientOptions({ seeds: 'a b:5' })).toThrow(InvalidClientOptionError);
    expect(() => resolveClientOptions({ coordinator: '' })).toThrow(
      "coordinator must be host:port, got ''",
    );
    expect(() => resolveClientOptions({ coordinator: [] })).toThrow(
      'give at least one coordinator or seed address',
    );
  });

  it('refuses counts out of range', () => {
    expect(() => resolveClientOptions({ retries: -1 })).toThrow(InvalidClientOptionError);
    expect(() => resolveClientOptions({ connectTimeoutMs: 0.5 })).toThrow(
      'connectTimeoutMs must be an integer ≥ 1, got 0.5',
    );
  });
});
