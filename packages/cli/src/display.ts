const decoder = new TextDecoder('utf-8', { fatal: true });

/** Code points shown as an escape rather than as themselves: C0 controls and DEL. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * How a key or value is shown in a human-readable line. Printable UTF-8 text is shown as
 * it is (`Alice Smith`, `{"a": 1}`); anything a terminal would garble or hide (control
 * characters, bytes that are not UTF-8, leading or trailing spaces, the empty string) is
 * shown as a double-quoted string with redis-cli's escapes, which the shell reads back as
 * the same bytes.
 */
export function displayText(data: Uint8Array | string): string {
  const bytes = toBytes(data);
  return plainText(bytes) ?? quoted(bytes);
}

/**
 * How a key is shown: as {@link displayText}, and also quoted when it holds whitespace or
 * starts with a quote, since the shell reads a key as one word.
 */
export function displayKey(key: Uint8Array | string): string {
  const bytes = toBytes(key);
  const text = plainText(bytes);
  return text !== undefined && !/\s/.test(text) && !/^["']/.test(text) ? text : quoted(bytes);
}

/** The text if it can be shown as it is: UTF-8, not empty, no controls, no edge spaces. */
function plainText(bytes: Uint8Array): string | undefined {
  const text = utf8(bytes);
  if (text === undefined || text === '' || CONTROL.test(text) || text.trim() !== text) {
    return undefined;
  }
  return text;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data) : data;
}

/** The bytes as a double-quoted string with `\n \r \t \" \\ \xHH` escapes. */
export function quoted(bytes: Uint8Array): string {
  const text = utf8(bytes);
  if (text !== undefined) {
    let out = '"';
    for (const ch of text) out += escapeChar(ch);
    return `${out}"`;
  }
  let out = '"';
  for (const byte of bytes) {
    out += byte >= 0x20 && byte < 0x7f ? escapeChar(String.fromCharCode(byte)) : hex(byte);
  }
  return `${out}"`;
}

/**
 * A value for a JSON document: UTF-8 text as a string; bytes that are not UTF-8 as
 * base64, flagged so a reader can tell.
 */
export function jsonValue(bytes: Uint8Array): { value: string; encoding?: 'base64' } {
  const text = utf8(bytes);
  if (text !== undefined) return { value: text };
  return { value: Buffer.from(bytes).toString('base64'), encoding: 'base64' };
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\u0007': '\\a',
  '"': '\\"',
  '\\': '\\\\',
};

function escapeChar(ch: string): string {
  const escape = ESCAPES[ch];
  if (escape !== undefined) return escape;
  return CONTROL.test(ch) ? hex(ch.charCodeAt(0)) : ch;
}

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}
