import { formatByteSize, parseByteSize } from './byte-size';

describe('byte sizes', () => {
  it.each([
    ['0', 0],
    ['1073741824', 1073741824],
    ['64mb', 64 * 1024 ** 2],
    ['64MB', 64 * 1024 ** 2],
    ['1gb', 1024 ** 3],
    ['1g', 1000 ** 3],
    ['512 kb', 512 * 1024],
    ['2tb', 2 * 1024 ** 4],
    ['10b', 10],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(['', '-1', '1.5gb', '64 pb', 'mb', '99999999999tb', '12345678901234567'])(
    'does not read %j',
    (text) => {
      expect(parseByteSize(text)).toBeUndefined();
    },
  );

  it('writes a size in the largest binary unit that divides it', () => {
    expect(formatByteSize(64 * 1024 ** 2)).toBe('64mb');
    expect(formatByteSize(1536 * 1024)).toBe('1536kb');
    expect(formatByteSize(1_000_000)).toBe('1000000 bytes');
  });
});
