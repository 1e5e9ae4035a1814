import { ProtocolError } from './errors';
import { splitInline } from './inline';

const split = (line: string | Buffer): string[] =>
  splitInline(Buffer.from(line)).map((a) => a.toString('latin1'));

describe('splitInline', () => {
  it('splits on any run of whitespace', () => {
    expect(split('  SET   key\tvalue  ')).toEqual(['SET', 'key', 'value']);
    expect(split('')).toEqual([]);
    expect(split('   ')).toEqual([]);
  });

  it('groups double-quoted words and decodes escapes', () => {
    expect(split('SET k "hello world"')).toEqual(['SET', 'k', 'hello world']);
    expect(split('"a\\nb\\rc\\td\\"e\\\\f\\bg\\ah"')).toEqual(['a\nb\rc\td"e\\f\bg\x07h']);
    expect(split('"\\x41\\x7a\\xff\\x00"')).toEqual(['Az\xff\x00']);
    expect(splitInline(Buffer.from('"\\xff"'))[0]).toEqual(Buffer.from([0xff]));
  });

  it('keeps an invalid \\x escape as the letter x followed by the rest', () => {
    expect(split('"\\xZZ"')).toEqual(['xZZ']);
  });

  it("groups single-quoted words, where only \\' is an escape", () => {
    expect(split("SET k 'it\\'s a \\n'")).toEqual(['SET', 'k', "it's a \\n"]);
  });

  it('starts a quoted section mid-word, as redis-cli does', () => {
    expect(split('ab"c d"')).toEqual(['abc d']);
  });

  it('keeps an empty quoted argument', () => {
    expect(split('SET k ""')).toEqual(['SET', 'k', '']);
  });

  it('passes UTF-8 through untouched', () => {
    expect(splitInline(Buffer.from('SET ключ "значение ✓"')).map((a) => a.toString())).toEqual([
      'SET',
      'ключ',
      'значение ✓',
    ]);
  });

  it.each(['"abc', "'abc", 'SET "a\\"', '"a"b', "'a'b"])('rejects %s', (line) => {
    expect(() => split(line)).toThrow(ProtocolError);
  });
});
