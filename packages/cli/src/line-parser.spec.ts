import { UsageError } from './errors';
import { canonicalCommandName, parseShellLine, type ShellCommand } from './line-parser';

function put(key: string, value: string | Buffer): ShellCommand {
  return { name: 'PUT', key, value: Buffer.isBuffer(value) ? value : Buffer.from(value) };
}

describe('parseShellLine', () => {
  it('reads the spec commands in any case', () => {
    expect(parseShellLine('PUT user:1 Alice')).toEqual(put('user:1', 'Alice'));
    expect(parseShellLine('get user:1')).toEqual({ name: 'GET', key: 'user:1' });
    expect(parseShellLine('Delete user:1')).toEqual({ name: 'DELETE', key: 'user:1' });
    expect(parseShellLine('list_nodes')).toEqual({ name: 'LIST_NODES', all: false });
    expect(parseShellLine('LIST_NODES all')).toEqual({ name: 'LIST_NODES', all: true });
    expect(parseShellLine('help')).toEqual({ name: 'HELP' });
    expect(parseShellLine('Exit')).toEqual({ name: 'EXIT' });
  });

  it('accepts the Redis names the servers accept', () => {
    expect(parseShellLine('set k v')).toEqual(put('k', 'v'));
    expect(parseShellLine('DEL k')).toEqual({ name: 'DELETE', key: 'k' });
    expect(parseShellLine('quit')).toEqual({ name: 'EXIT' });
    expect(canonicalCommandName('del')).toBe('DELETE');
    expect(canonicalCommandName('nope')).toBeUndefined();
  });

  it('takes the rest of the line as the value of PUT', () => {
    expect(parseShellLine('PUT user:1 Alice Smith')).toEqual(put('user:1', 'Alice Smith'));
    expect(parseShellLine('PUT k  a   b  ')).toEqual(put('k', 'a   b'));
    expect(parseShellLine('PUT cache:session:123 {"user_id": 456, "ttl": 3600}')).toEqual(
      put('cache:session:123', '{"user_id": 456, "ttl": 3600}'),
    );
    expect(parseShellLine('PUT k "Alice" Smith')).toEqual(put('k', '"Alice" Smith'));
    expect(parseShellLine('PUT k "unterminated')).toEqual(put('k', '"unterminated'));
  });

  it('unquotes a value that is one quoted string, with redis-cli escapes', () => {
    expect(parseShellLine('PUT k "  padded  "')).toEqual(put('k', '  padded  '));
    expect(parseShellLine('PUT k "two\\nlines \\"q\\" \\\\ \\x41"')).toEqual(
      put('k', 'two\nlines "q" \\ A'),
    );
    expect(parseShellLine('PUT k "\\xff\\x00"')).toEqual(put('k', Buffer.from([0xff, 0x00])));
    expect(parseShellLine("PUT k 'it\\'s'")).toEqual(put('k', "it's"));
    expect(parseShellLine('PUT k ""')).toEqual(put('k', ''));
  });

  it('reads quoted keys', () => {
    expect(parseShellLine('PUT "user 1" Alice')).toEqual(put('user 1', 'Alice'));
    expect(parseShellLine('GET "user 1"')).toEqual({ name: 'GET', key: 'user 1' });
    expect(parseShellLine("DELETE 'a b'")).toEqual({ name: 'DELETE', key: 'a b' });
    expect(parseShellLine('GET ""')).toEqual({ name: 'GET', key: '' });
  });

  it('takes an unquoted word as typed', () => {
    expect(parseShellLine('GET a"b')).toEqual({ name: 'GET', key: 'a"b' });
    expect(parseShellLine('PUT a\\nb v')).toEqual(put('a\\nb', 'v'));
  });

  it('ignores empty lines, surrounding space, CRLF and comments', () => {
    expect(parseShellLine('')).toBeNull();
    expect(parseShellLine('   \t ')).toBeNull();
    expect(parseShellLine('# a comment')).toBeNull();
    expect(parseShellLine('  GET k \r')).toEqual({ name: 'GET', key: 'k' });
    expect(parseShellLine('PUT k v\r')).toEqual(put('k', 'v'));
  });

  it.each([
    ['FOO bar', "unknown command 'FOO' (commands: PUT, GET, DELETE, LIST_NODES, HELP, EXIT)"],
    ['PUT', "wrong number of arguments for 'PUT': usage PUT key value"],
    ['PUT k', "wrong number of arguments for 'PUT': usage PUT key value"],
    ['PUT k   ', "wrong number of arguments for 'PUT': usage PUT key value"],
    ['GET', "wrong number of arguments for 'GET': usage GET key"],
    ['GET a b', "wrong number of arguments for 'GET': usage GET key"],
    ['DELETE', "wrong number of arguments for 'DELETE': usage DELETE key"],
    ['LIST_NODES x', "wrong number of arguments for 'LIST_NODES': usage LIST_NODES [ALL]"],
    ['EXIT now', "wrong number of arguments for 'EXIT': usage EXIT"],
    ['HELP me', "wrong number of arguments for 'HELP': usage HELP"],
    ['GET "abc', 'unbalanced quotes: a quoted word has no end'],
    ['GET "a"b', 'a closing quote must be followed by a space'],
    ['PUT "k v', 'unbalanced quotes: a quoted word has no end'],
  ])('rejects %j', (line, message) => {
    expect(() => parseShellLine(line)).toThrow(new UsageError(message));
  });
});
