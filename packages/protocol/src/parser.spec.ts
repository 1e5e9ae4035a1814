import fc from 'fast-check';
import { LimitExceededError, ProtocolError, ReplyError, TooLargeError } from './errors';
import type { ProtocolLimits } from './limits';
import { RespParser, type ParsedRequest, type ParserMode } from './parser';
import { SimpleString, type RespValue } from './types';
import { encodeCommand, encodeReply } from './writer';

type Message = RespValue | ParsedRequest;

/** Feeds `input` cut at `cuts` (offsets) and returns every message in order. */
function parseChunks(
  mode: ParserMode,
  input: Buffer,
  cuts: number[],
  limits?: Partial<ProtocolLimits>,
): Message[] {
  const parser = new RespParser(mode, limits);
  const out: Message[] = [];
  let from = 0;
  for (const cut of [
    ...cuts.filter((c) => c > 0 && c < input.length).sort((a, b) => a - b),
    input.length,
  ]) {
    parser.feed(input.subarray(from, cut), (m) => out.push(m));
    from = cut;
  }
  return out;
}

function whole(
  mode: ParserMode,
  input: string | Buffer,
  limits?: Partial<ProtocolLimits>,
): Message[] {
  return parseChunks(mode, Buffer.from(input), [], limits);
}

function byteByByte(
  mode: ParserMode,
  input: string | Buffer,
  limits?: Partial<ProtocolLimits>,
): Message[] {
  const bytes = Buffer.from(input);
  return parseChunks(
    mode,
    bytes,
    Array.from({ length: bytes.length }, (_, i) => i),
    limits,
  );
}

/** Runs the input whole and one byte at a time; both must give `expected`. */
function expectParses(mode: ParserMode, input: string | Buffer, expected: Message[]): void {
  expect(whole(mode, input)).toEqual(expected);
  expect(byteByByte(mode, input)).toEqual(expected);
}

function expectFails(
  mode: ParserMode,
  input: string | Buffer,
  type: new (...args: never[]) => Error,
  message: RegExp,
  limits?: Partial<ProtocolLimits>,
): void {
  for (const run of [whole, byteByByte]) {
    let caught: unknown;
    try {
      run(mode, input, limits);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(type);
    expect((caught as Error).message).toMatch(message);
  }
}

const b = (s: string): Buffer => Buffer.from(s);

describe('RespParser in reply mode', () => {
  it.each<[string, string, RespValue[]]>([
    ['simple string', '+OK\r\n', [new SimpleString('OK')]],
    ['empty simple string', '+\r\n', [new SimpleString('')]],
    ['integer', ':1234\r\n', [1234]],
    ['negative integer', ':-42\r\n', [-42]],
    ['16-digit integer', ':1000000000000000\r\n', [1000000000000000]],
    ['64-bit integer', ':9223372036854775807\r\n', [9223372036854775807n]],
    ['bulk string', '$5\r\nhello\r\n', [b('hello')]],
    ['empty bulk string', '$0\r\n\r\n', [b('')]],
    ['null bulk', '$-1\r\n', [null]],
    ['null array', '*-1\r\n', [null]],
    ['empty array', '*0\r\n', [[]]],
    ['array of mixed', '*3\r\n:1\r\n$1\r\na\r\n+x\r\n', [[1, b('a'), new SimpleString('x')]]],
    ['nested arrays', '*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n$-1\r\n', [[[1, 2], [null]]]],
    ['several messages', '+OK\r\n:1\r\n$1\r\nx\r\n', [new SimpleString('OK'), 1, b('x')]],
  ])('%s', (_name, input, expected) => {
    expectParses('reply', input, expected);
  });

  it('parses an error reply into a ReplyError with its code', () => {
    const [err] = whole('reply', '-UNAVAILABLE 1 of 2 replicas acknowledged\r\n');
    expect(err).toBeInstanceOf(ReplyError);
    expect((err as ReplyError).code).toBe('UNAVAILABLE');
    expect((err as ReplyError).message).toBe('UNAVAILABLE 1 of 2 replicas acknowledged');
    expect(byteByByte('reply', '-ERR x\r\n')).toEqual([new ReplyError('ERR x')]);
  });

  it('is binary-safe: bulk strings may hold CR, LF and any byte', () => {
    const value = Buffer.from([0, 13, 10, 255, 36, 42, 13, 10]);
    const input = Buffer.concat([b(`$${value.length}\r\n`), value, b('\r\n')]);
    expectParses('reply', input, [value]);
  });

  it('returns bulk strings as views of the input, not copies', () => {
    const input = b('$3\r\nabc\r\n');
    const [value] = whole('reply', input) as Buffer[];
    expect(value?.buffer).toBe(input.buffer);
  });

  it('assembles a large bulk string fed in many chunks', () => {
    const value = Buffer.alloc(1_000_000, 7);
    const input = Buffer.concat([b(`$${value.length}\r\n`), value, b('\r\n:5\r\n')]);
    const cuts = Array.from({ length: 200 }, (_, i) => i * 5003);
    const out = parseChunks('reply', input, cuts);
    expect(out).toHaveLength(2);
    expect((out[0] as Buffer).equals(value)).toBe(true);
    expect(out[1]).toBe(5);
  });

  it.each<[string, string, RegExp]>([
    ['negative bulk length other than -1', '$-2\r\n', /invalid bulk length "-2"/],
    ['non-digit bulk length', '$1x\r\nab\r\n', /invalid bulk length "1x"/],
    ['empty bulk length', '$\r\n', /invalid bulk length ""/],
    ['bulk not followed by CRLF', '$3\r\nabcXY', /bulk string not terminated by CRLF/],
    ['line ending in CR without LF', '+OK\rX\r\n', /line not terminated by CRLF/],
    ['unknown type byte', '!3\r\nabc\r\n', /unknown reply type byte '!'/],
    ['negative array length other than -1', '*-5\r\n', /invalid array length "-5"/],
    ['non-digit integer', ':12a\r\n', /invalid integer "12a"/],
  ])('rejects %s with a ProtocolError', (_name, input, message) => {
    expectFails('reply', input, ProtocolError, message);
  });

  it('keeps failing after a protocol error', () => {
    const parser = new RespParser('reply');
    expect(() => parser.feed(b('?\r\n'), () => undefined)).toThrow(ProtocolError);
    expect(() => parser.feed(b('+OK\r\n'), () => undefined)).toThrow(ProtocolError);
    parser.reset();
    const out: Message[] = [];
    parser.feed(b('+OK\r\n'), (m) => out.push(m));
    expect(out).toEqual([new SimpleString('OK')]);
  });
});

describe('RespParser in request mode', () => {
  it('parses a multibulk command into Buffers', () => {
    expectParses('request', '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv a l\r\n', [
      [b('SET'), b('k'), b('v a l')],
    ]);
  });

  it('parses inline commands, with and without CR', () => {
    expectParses('request', 'PING\r\nGET user:1\nSET "a b" \'c d\'\r\n', [
      [b('PING')],
      [b('GET'), b('user:1')],
      [b('SET'), b('a b'), b('c d')],
    ]);
  });

  it('ignores empty lines and empty multibulk requests', () => {
    expectParses('request', '\r\n\n*0\r\n*-1\r\nPING\r\n', [[b('PING')]]);
  });

  it('mixes inline and multibulk in one stream', () => {
    expectParses('request', 'PING\r\n*1\r\n$4\r\nPING\r\nECHO x\r\n', [
      [b('PING')],
      [b('PING')],
      [b('ECHO'), b('x')],
    ]);
  });

  it.each<[string, string, RegExp]>([
    [
      'a non-bulk element in a request',
      '*2\r\n$3\r\nGET\r\n:1\r\n',
      /expected '\$' for a request argument, got ':'/,
    ],
    ['a null bulk in a request', '*1\r\n$-1\r\n', /null bulk string in a request/],
    ['an unterminated quote in an inline command', 'SET "abc\r\n', /unbalanced quotes/],
    ['a quote closed mid-word', 'SET "a"b\r\n', /closing quote must be followed by a space/],
    ['a non-digit array length', '*x\r\n', /invalid array length "x"/],
  ])('rejects %s', (_name, input, message) => {
    expectFails('request', input, ProtocolError, message);
  });

  it('skips an over-limit argument without buffering it and reports TooLargeError in order', () => {
    const big = Buffer.alloc(5000, 0x61);
    const input = Buffer.concat([
      b('PING\r\n'),
      encodeCommand(['SET', 'k', big]),
      b('*2\r\n$4\r\nECHO\r\n$2\r\nok\r\n'),
    ]);
    for (const cuts of [[], Array.from({ length: input.length }, (_, i) => i), [10, 100, 3000]]) {
      const parser = new RespParser('request', { maxBulkLength: 1000 });
      const out: Message[] = [];
      let from = 0;
      let maxHeld = 0;
      for (const cut of [...cuts.filter((c) => c > 0), input.length]) {
        parser.feed(input.subarray(from, cut), (m) => out.push(m));
        maxHeld = Math.max(maxHeld, parser.bufferedBytes);
        from = cut;
      }
      expect(out).toHaveLength(3);
      expect(out[0]).toEqual([b('PING')]);
      expect(out[1]).toBeInstanceOf(TooLargeError);
      expect((out[1] as TooLargeError).length).toBe(5000);
      expect(out[2]).toEqual([b('ECHO'), b('ok')]);
      expect(maxHeld).toBeLessThan(1000);
    }
  });
});

describe('RespParser limits', () => {
  it('drops a request with more arguments than maxArguments as its header arrives, holding none of them', () => {
    const count = 1_000_000;
    const header = b(`*${count}\r\n$6\r\nEXISTS\r\n`);
    const element = b('$7\r\nkey:123\r\n');
    const parser = new RespParser('request', { maxArguments: 4096 });
    const out: Message[] = [];
    parser.feed(header, (m) => out.push(m));
    let maxHeld = parser.bufferedBytes;
    // The elements arrive in chunks that cut them anywhere, as a socket would deliver them.
    const chunk = Buffer.concat(Array.from({ length: 1000 }, () => element));
    let sent = 1;
    while (sent < count) {
      const n = Math.min(1000, count - sent);
      const part = n === 1000 ? chunk : chunk.subarray(0, n * element.length);
      parser.feed(part.subarray(0, 5), (m) => out.push(m));
      parser.feed(part.subarray(5), (m) => out.push(m));
      maxHeld = Math.max(maxHeld, parser.bufferedBytes);
      sent += n;
    }
    parser.feed(b('PING\r\n'), (m) => out.push(m));
    expect(out).toHaveLength(2);
    expect(out[0]).toBeInstanceOf(TooLargeError);
    expect((out[0] as TooLargeError).message).toBe(
      'request of 1000000 arguments exceeds the limit of 4096 arguments',
    );
    expect(out[1]).toEqual([b('PING')]);
    // What the parser holds never grows with the request: one element at most.
    expect(maxHeld).toBeLessThan(element.length * 2);
    expect(parser.midMessage).toBe(false);
  });

  it('takes a request of exactly maxArguments, and drops longer inline and oversize ones alike', () => {
    const limits = { maxArguments: 3, maxBulkLength: 10 };
    for (const run of [whole, byteByByte]) {
      const out = run(
        'request',
        Buffer.concat([
          encodeCommand(['A', 'b', 'c']),
          encodeCommand(['A', 'b', 'c', 'd']),
          b('A b c d\r\n'),
          encodeCommand(['A', 'x'.repeat(11), 'c', 'd']),
          encodeCommand(['A', 'b']),
        ]),
        limits,
      );
      expect(out).toHaveLength(5);
      expect(out[0]).toEqual([b('A'), b('b'), b('c')]);
      for (const i of [1, 2, 3]) {
        expect(out[i]).toBeInstanceOf(TooLargeError);
        expect((out[i] as TooLargeError).message).toBe(
          'request of 4 arguments exceeds the limit of 3 arguments',
        );
      }
      expect(out[4]).toEqual([b('A'), b('b')]);
    }
  });

  it('rejects an array longer than maxArrayLength as soon as its header arrives', () => {
    expectFails(
      'request',
      '*11\r\n',
      LimitExceededError,
      /array length of 11 exceeds the limit of 10 \(maxArrayLength\)/,
      {
        maxArrayLength: 10,
      },
    );
  });

  it('rejects nesting deeper than maxDepth', () => {
    expectFails('reply', '*1\r\n*1\r\n*1\r\n:1\r\n', LimitExceededError, /maxDepth/, {
      maxDepth: 2,
    });
    expect(whole('reply', '*1\r\n*1\r\n:1\r\n', { maxDepth: 2 })).toEqual([[[1]]]);
  });

  it('rejects an inline line longer than maxInlineLength without waiting for its end', () => {
    expectFails(
      'request',
      'x'.repeat(101),
      LimitExceededError,
      /inline command line of 101 exceeds the limit of 100/,
      {
        maxInlineLength: 100,
      },
    );
  });

  it('rejects a header line that never ends', () => {
    expectFails('reply', `+${'x'.repeat(200)}`, LimitExceededError, /maxInlineLength/, {
      maxInlineLength: 100,
    });
  });

  it('rejects a reply bulk string over maxBulkLength before its bytes arrive', () => {
    expectFails(
      'reply',
      '$2000\r\n',
      LimitExceededError,
      /bulk string length of 2000 exceeds the limit of 1000/,
      {
        maxBulkLength: 1000,
      },
    );
  });

  it('bounds the bytes held for one unfinished message', () => {
    const parser = new RespParser('request', { maxBufferedBytes: 100 });
    const out: Message[] = [];
    parser.feed(b('*1000\r\n'), (m) => out.push(m));
    let caught: unknown;
    try {
      for (let i = 0; i < 20; i++) parser.feed(b('$5\r\nabcde\r\n'), (m) => out.push(m));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LimitExceededError);
    expect((caught as LimitExceededError).limit).toBe('maxBufferedBytes');
    expect(out).toEqual([]);
  });

  it('rejects invalid limit settings', () => {
    expect(() => new RespParser('reply', { maxDepth: 0 })).toThrow(
      /maxDepth must be a positive integer/,
    );
    expect(() => new RespParser('reply', { maxBulkLength: 1.5 })).toThrow(RangeError);
  });
});

describe('RespParser properties', () => {
  const bytes = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
  const reply: fc.Arbitrary<RespValue> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      bytes,
      fc.constant(null),
      fc.integer({ min: -1e15, max: 1e15 }),
      fc.stringMatching(/^[^\r\n]*$/).map((s) => new SimpleString(s)),
      fc.array(tie('value'), { maxLength: 5 }),
    ),
  })).value as fc.Arbitrary<RespValue>;

  /** Cut points for a buffer of length n. */
  const cutsFor = (n: number): fc.Arbitrary<number[]> =>
    fc.array(fc.integer({ min: 0, max: Math.max(0, n) }), { maxLength: 20 });

  it('any sequence of encoded replies, cut anywhere, parses back equal', () => {
    fc.assert(
      fc.property(
        fc.array(reply, { minLength: 1, maxLength: 8 }).chain((values) => {
          const input = Buffer.concat(values.map((v) => encodeReply(v)));
          return fc.tuple(fc.constant(values), fc.constant(input), cutsFor(input.length));
        }),
        ([values, input, cuts]) => {
          expect(parseChunks('reply', input, cuts)).toEqual(values);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any sequence of encoded commands, cut anywhere, parses back equal', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.array(bytes, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 })
          .chain((commands) => {
            const input = Buffer.concat(commands.map((c) => encodeCommand(c)));
            return fc.tuple(fc.constant(commands), fc.constant(input), cutsFor(input.length));
          }),
        ([commands, input, cuts]) => {
          expect(parseChunks('request', input, cuts)).toEqual(commands);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes never throw anything but a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom<ParserMode>('request', 'reply'),
        (input, mode) => {
          try {
            byteByByte(mode, Buffer.from(input), {
              maxBulkLength: 64,
              maxArrayLength: 64,
              maxInlineLength: 64,
            });
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
