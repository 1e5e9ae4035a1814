import { ReplyError, RespParser, encodeCommand, encodeReply, type RespValue } from '@kv/protocol';
import { MAX_KEYS_PER_COMMAND } from './command-args';
import { MAX_EXPIRES_AT, type StoredRecord } from './record';
import {
  MAX_BATCH_RECORDS,
  NodeCommand,
  decodeBatchReply,
  encodeApplyResult,
  parseReplicateBatch,
  replicateBatchArgs,
  type KeyedRecord,
} from './replication';

const record = (ts: number, value: string | null, expiresAt = 0): StoredRecord => ({
  ts,
  origin: '127.0.0.1:5001',
  expiresAt,
  value: value === null ? null : Buffer.from(value),
});

const entries: KeyedRecord[] = [
  { key: Buffer.from('user:1'), record: record(1_000_001, 'Alice') },
  { key: Buffer.from('gone'), record: record(1_000_002, null) },
  { key: Buffer.from([0, 0xff, 13, 10]), record: record(1_000_003, '\r\n\0', MAX_EXPIRES_AT) },
  { key: Buffer.from('empty'), record: record(1_000_004, '') },
];

/** Every message `bytes` decodes to, fed whole or one byte at a time. */
function parse(bytes: Buffer, mode: 'request' | 'reply', byteByByte: boolean): unknown[] {
  const parser = new RespParser(mode);
  const messages: unknown[] = [];
  if (!byteByByte) parser.feed(bytes, (m) => messages.push(m));
  else
    for (let i = 0; i < bytes.length; i++)
      parser.feed(bytes.subarray(i, i + 1), (m) => messages.push(m));
  return messages;
}

const plain = (e: KeyedRecord) => ({
  key: [...e.key],
  ...e.record,
  value: e.record.value === null ? null : e.record.value.toString('latin1'),
});

/** REPLICATE_BATCH's arguments as a server receives them, with `change` applied. */
function received(change: (args: Buffer[]) => Buffer[] = (a) => a): Buffer[] {
  const [args] = parse(encodeCommand(replicateBatchArgs(entries)), 'request', false) as [Buffer[]];
  return change(args);
}

describe('REPLICATE_BATCH', () => {
  for (const byteByByte of [false, true]) {
    it(`travels whole, tombstones and binary keys and values included (${byteByByte ? 'byte by byte' : 'whole'})`, () => {
      const messages = parse(encodeCommand(replicateBatchArgs(entries)), 'request', byteByByte);
      expect(messages).toHaveLength(1);
      const args = messages[0] as Buffer[];
      expect(String(args[0])).toBe(NodeCommand.replicateBatch);
      expect(String(args[1])).toBe('4');
      expect(args).toHaveLength(2 + 6 * entries.length);
      expect(parseReplicateBatch(args).map(plain)).toEqual(entries.map(plain));
    });

    it(`answers each record in order, errors included (${byteByByte ? 'byte by byte' : 'whole'})`, () => {
      const answers = [
        encodeApplyResult({ applied: true, existed: false, ts: 7, origin: 'a:1' }),
        new ReplyError('CLOCKSKEW version 9 is 10 ms ahead'),
        encodeApplyResult({ applied: false, existed: true, ts: 8, origin: 'b:1' }),
      ];
      const [reply] = parse(encodeReply(answers), 'reply', byteByByte) as [RespValue];
      const decoded = decodeBatchReply(reply, 3);
      expect(decoded[0]).toEqual({ applied: true, existed: false, ts: 7, origin: 'a:1' });
      expect(decoded[1]).toBeInstanceOf(ReplyError);
      expect((decoded[1] as ReplyError).message).toBe('CLOCKSKEW version 9 is 10 ms ahead');
      expect(decoded[2]).toEqual({ applied: false, existed: true, ts: 8, origin: 'b:1' });
    });
  }

  it('fits a full batch within the arguments a node’s server takes in one request', () => {
    // node.ts bounds a request at 4 × MAX_KEYS_PER_COMMAND arguments, the command included.
    const full = replicateBatchArgs(
      Array.from({ length: MAX_BATCH_RECORDS }, () => entries[0] as KeyedRecord),
    );
    expect(full.length).toBeLessThanOrEqual(4 * MAX_KEYS_PER_COMMAND);
  });

  it('refuses a count that does not match the records that follow', () => {
    const count = (n: string) => (a: Buffer[]) => [a[0] as Buffer, Buffer.from(n), ...a.slice(2)];
    for (const n of ['3', '5'])
      expect(() => parseReplicateBatch(received(count(n)))).toThrow(
        `WRONGARGS REPLICATE_BATCH takes n (1 to ${MAX_BATCH_RECORDS}) then n × (key ts origin expiresAt hasValue value): 24 arguments follow a count of ${n}`,
      );
    expect(() => parseReplicateBatch(received((a) => [a[0] as Buffer, Buffer.from('0')]))).toThrow(
      'follow a count of 0',
    );
    for (const n of ['-1', 'x', '1.5', String(MAX_BATCH_RECORDS + 1)])
      expect(() => parseReplicateBatch(received(count(n)))).toThrow(
        `WRONGARGS REPLICATE_BATCH record count must be an integer from 0 to ${MAX_BATCH_RECORDS}`,
      );
    // A record cut short.
    expect(() => parseReplicateBatch(received((a) => a.slice(0, -1)))).toThrow('WRONGARGS');
  });

  it('refuses a record whose fields do not parse, naming the field', () => {
    const field = (at: number, value: string) => (a: Buffer[]) => {
      const copy = [...a];
      copy[at] = Buffer.from(value);
      return copy;
    };
    // Record 2 starts at argument 8: key, ts, origin, expiresAt, hasValue, value.
    expect(() => parseReplicateBatch(received(field(9, 'soon')))).toThrow(
      'WRONGARGS ts must be an integer from 0',
    );
    expect(() => parseReplicateBatch(received(field(11, String(2 ** 48))))).toThrow(
      `WRONGARGS expiresAt must be an integer from 0 to ${MAX_EXPIRES_AT}`,
    );
    for (const [hasValue, value] of [
      ['2', ''],
      ['yes', ''],
      ['0', 'not empty'],
    ] as const) {
      const args = received(field(12, hasValue));
      args[13] = Buffer.from(value);
      expect(() => parseReplicateBatch(args)).toThrow(
        'WRONGARGS record 2 of REPLICATE_BATCH: hasValue must be 1, or 0 with an empty value',
      );
    }
  });

  it('refuses a reply that is not one answer per record', () => {
    const answer = encodeApplyResult({ applied: true, existed: false, ts: 7, origin: 'a:1' });
    for (const reply of [null, 5, Buffer.from('OK'), [answer], [answer, answer, answer]])
      expect(() => decodeBatchReply(reply as RespValue, 2)).toThrow(
        'ERR malformed REPLICATE_BATCH reply: expected 2 answers',
      );
    expect(() => decodeBatchReply([answer, [1, 0]] as RespValue, 2)).toThrow(
      'ERR malformed REPLICATE reply',
    );
  });
});
