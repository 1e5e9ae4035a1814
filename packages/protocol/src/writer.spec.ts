import { ReplyError } from './errors';
import { OK, SimpleString } from './types';
import { RespWriter, encodeCommand, encodeReply } from './writer';

const text = (buf: Buffer): string => buf.toString('latin1');

describe('encodeReply', () => {
  it.each<[string, Parameters<typeof encodeReply>[0], string]>([
    ['status', OK, '+OK\r\n'],
    ['error', new ReplyError('ERR bad thing'), '-ERR bad thing\r\n'],
    ['integer', 42, ':42\r\n'],
    ['negative integer', -7, ':-7\r\n'],
    ['bigint', 2n ** 63n - 1n, ':9223372036854775807\r\n'],
    ['bulk from Buffer', Buffer.from('hi'), '$2\r\nhi\r\n'],
    ['bulk from string (UTF-8)', 'é', '$2\r\n\xc3\xa9\r\n'],
    ['null bulk', null, '$-1\r\n'],
    ['empty array', [], '*0\r\n'],
    ['nested array', [1, ['a', null]], '*2\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n'],
  ])('%s', (_name, value, expected) => {
    expect(text(encodeReply(value))).toBe(expected);
  });

  it('never lets CR or LF break a status or error line', () => {
    expect(text(encodeReply(new SimpleString('a\r\nb')))).toBe('+a  b\r\n');
    expect(text(encodeReply(new ReplyError('ERR x\ny')))).toBe('-ERR x y\r\n');
  });

  it('writes status and error lines of any length and any characters as UTF-8', () => {
    expect(text(encodeReply(new SimpleString('')))).toBe('+\r\n');
    expect(text(encodeReply(new SimpleString('café')))).toBe('+caf\xc3\xa9\r\n');
    expect(text(encodeReply(new ReplyError(`ERR é\r${'x'.repeat(70)}`)))).toBe(
      `-ERR \xc3\xa9 ${'x'.repeat(70)}\r\n`,
    );
    const long = 'y'.repeat(200);
    expect(text(encodeReply([new SimpleString(long), OK]))).toBe(`*2\r\n+${long}\r\n+OK\r\n`);
  });

  it('rejects a non-integer number and leaves the shared writer clean', () => {
    expect(() => encodeReply([1, 1.5])).toThrow(RangeError);
    expect(text(encodeReply(1))).toBe(':1\r\n');
  });
});

describe('encodeCommand', () => {
  it('encodes strings, Buffers and numbers as bulk strings', () => {
    expect(text(encodeCommand(['SET', Buffer.from('k'), 12]))).toBe(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n',
    );
  });
});

describe('RespWriter', () => {
  it('passes large values through without copying them', () => {
    const big = Buffer.alloc(100_000, 1);
    const writer = new RespWriter().bulk(big);
    expect(writer.length).toBe(big.length + '$100000\r\n\r\n'.length);
    const chunks = writer.take();
    expect(chunks).toContain(big);
    expect(
      Buffer.concat(chunks).equals(
        Buffer.concat([Buffer.from('$100000\r\n'), big, Buffer.from('\r\n')]),
      ),
    ).toBe(true);
    expect(writer.length).toBe(0);
  });

  it('keeps earlier chunks intact when it grows a new slab', () => {
    const writer = new RespWriter();
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      writer.bulk(`value-${i}`);
      expected.push(`$${`value-${i}`.length}\r\nvalue-${i}\r\n`);
    }
    const first = writer.take();
    writer.integer(1);
    expect(text(Buffer.concat(first))).toBe(expected.join(''));
  });
});
