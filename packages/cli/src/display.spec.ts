import { displayKey, displayText, jsonValue, quoted } from './display';
import { parseShellLine } from './line-parser';

describe('displayText', () => {
  it('shows printable text as it is', () => {
    expect(displayText('Alice Smith')).toBe('Alice Smith');
    expect(displayText('{"user_id": 456}')).toBe('{"user_id": 456}');
    expect(displayText(Buffer.from('héllo ✓'))).toBe('héllo ✓');
  });

  it('quotes what a terminal would garble or hide', () => {
    expect(displayText('two\nlines')).toBe('"two\\nlines"');
    expect(displayText(' padded ')).toBe('" padded "');
    expect(displayText('')).toBe('""');
    expect(displayText('bell\u0007')).toBe('"bell\\a"');
    expect(displayText('esc\u001b[1m')).toBe('"esc\\x1b[1m"');
    expect(displayText(Buffer.from([0xff, 0x41, 0x22]))).toBe('"\\xffA\\""');
  });

  it('quotes so that the shell reads back the same bytes', () => {
    for (const value of [
      Buffer.from('two\nlines\t"q" \\'),
      Buffer.from([0, 1, 0xfe, 0xff, 0x20]),
      Buffer.from(' ✓ '),
    ]) {
      expect(parseShellLine(`PUT k ${quoted(value)}`)).toEqual({ name: 'PUT', key: 'k', value });
    }
  });
});

describe('displayKey', () => {
  it('quotes keys the shell would not read as one word', () => {
    expect(displayKey('user:1')).toBe('user:1');
    expect(displayKey('a"b')).toBe('a"b');
    expect(displayKey('a key')).toBe('"a key"');
    expect(displayKey('"quoted')).toBe('"\\"quoted"');
    expect(parseShellLine(`GET ${displayKey('"quoted')}`)).toEqual({ name: 'GET', key: '"quoted' });
  });
});

describe('jsonValue', () => {
  it('gives UTF-8 as a string and anything else as base64', () => {
    expect(jsonValue(Buffer.from('Alice'))).toEqual({ value: 'Alice' });
    expect(jsonValue(Buffer.from([0xff, 0x00]))).toEqual({ value: '/wA=', encoding: 'base64' });
  });
});
