import { parseInfo } from './info';

describe('parseInfo', () => {
  it('flattens the sections into fields, keeping colons in values', () => {
    const text =
      '# Server\r\nnode_id:127.0.0.1:5001\r\nuptime_in_seconds:7\r\n\r\n# Keyspace\r\ndb0:keys=3\r\n';
    expect(parseInfo(text)).toEqual({
      node_id: '127.0.0.1:5001',
      uptime_in_seconds: '7',
      db0: 'keys=3',
    });
  });

  it('ignores lines that are not fields', () => {
    expect(parseInfo('garbage\n:no-name\n# Title\n')).toEqual({});
  });
});
