import { InvalidRingReplyError } from './errors';
import { Ring } from './ring';
import { RingEpoch } from './ring-epoch';
import { decodeRingReply, encodeRingReply } from './ring-reply';

const read = new Ring([{ id: '127.0.0.1:5001', zone: 'a' }, '127.0.0.1:5002']);
const target = read.add('127.0.0.1:5003');
const json = (ring: Ring): string => JSON.stringify(ring.toJSON());
/** What a RESP client receives: bulk strings as Buffers. */
const received = (values: readonly (number | string)[]): unknown[] =>
  values.map((v) => (typeof v === 'string' ? Buffer.from(v) : v));

describe('encodeRingReply', () => {
  it('sends the epoch and the ring as JSON, and the target ring while it differs', () => {
    expect(encodeRingReply({ epoch: 4, read })).toEqual([4, json(read)]);
    expect(encodeRingReply({ epoch: 4, read, target: read })).toEqual([4, json(read)]);
    expect(encodeRingReply({ epoch: 5, read, target })).toEqual([5, json(read), json(target)]);
  });

  it('takes rings already serialised as they are', () => {
    expect(encodeRingReply({ epoch: 5, read: '{"r":1}', target: '{"t":1}' })).toEqual([
      5,
      '{"r":1}',
      '{"t":1}',
    ]);
  });

  it('sends the epoch alone to an asker that holds it', () => {
    expect(encodeRingReply({ epoch: 5, read, target }, 5)).toEqual([5]);
    expect(encodeRingReply({ epoch: 5, read }, 4)).toEqual([5, json(read)]);
  });
});

describe('decodeRingReply', () => {
  it('rebuilds what encodeRingReply sent', () => {
    const whole = decodeRingReply(received(encodeRingReply({ epoch: 5, read, target })));
    expect(whole.epoch).toBe(5);
    expect(whole.read.equals(read)).toBe(true);
    expect(whole.target.equals(target)).toBe(true);
    const settled = decodeRingReply(received(encodeRingReply({ epoch: 6, read })), 5);
    expect(settled?.target).toBe(settled?.read);
    expect(decodeRingReply(encodeRingReply({ epoch: 6, read }))?.read.equals(read)).toBe(true);
  });

  it('round-trips a RingEpoch', () => {
    const joining = new RingEpoch(7, read, target);
    const decoded = decodeRingReply(received(encodeRingReply(joining)));
    expect(decoded).toBeInstanceOf(RingEpoch);
    expect(decoded.phaseOf('127.0.0.1:5003')).toBe('joining');
    expect(encodeRingReply(new RingEpoch(8, read))).toEqual([8, json(read)]);
  });

  it('derives the rings from the epoch the reader held, placing keys as rings built whole', () => {
    const held = decodeRingReply(received(encodeRingReply({ epoch: 5, read })));
    const joined = target.add('127.0.0.1:5009');
    const next = decodeRingReply(
      received(encodeRingReply({ epoch: 6, read: target, target: joined })),
      5,
      held,
    );
    expect(next?.read.equals(target)).toBe(true);
    expect(next?.target.equals(joined)).toBe(true);
    for (let i = 0; i < 100; i++) {
      expect(next?.read.preferenceList(`k${i}`)).toEqual(target.preferenceList(`k${i}`));
      expect(next?.target.preferenceList(`k${i}`)).toEqual(joined.preferenceList(`k${i}`));
    }
    // The held epoch stays as it was.
    expect(held.read.equals(read)).toBe(true);
  });

  it('serialises a ring once, however many askers fetch it', () => {
    const ring = read.add('127.0.0.1:5010');
    const first = encodeRingReply({ epoch: 9, read: ring })[1];
    expect(encodeRingReply({ epoch: 9, read: ring })[1]).toBe(first);
    expect(first).toBe(json(ring));
  });

  it('reads the epoch alone as "unchanged" only for the epoch the asker holds', () => {
    expect(decodeRingReply([3], 3)).toBeUndefined();
    expect(() => decodeRingReply([4], 3)).toThrow('invalid RING reply: epoch 4 without a ring');
    expect(() => decodeRingReply([4])).toThrow('epoch 4 without a ring');
  });

  it('ignores elements after the target ring', () => {
    const reply = [...received(encodeRingReply({ epoch: 5, read, target })), Buffer.from('x')];
    expect(decodeRingReply(reply).target.equals(target)).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['not an array', 'OK', 'expected [epoch, ring]'],
    ['an epoch that is not a number', [Buffer.from('1'), Buffer.from(json(read))], 'expected'],
    ['a ring that is not a bulk string', [4, 5], 'the ring is not a bulk string'],
    ['a target that is not a bulk string', [4, json(read), 5], 'the target ring is not a bulk'],
    ['a ring that is not JSON', [4, Buffer.from('{')], 'invalid RING reply: '],
    ['JSON that is not a ring', [4, Buffer.from('[]')], 'expected an object'],
    ['a ring with a bad member', [4, '{"members":[{"id":""}]}'], 'invalid RING reply: '],
    ['a negative epoch', [-2, json(read)], 'invalid ring epoch -2'],
  ])('rejects %s', (_what, reply, message) => {
    expect(() => decodeRingReply(reply, 3)).toThrow(InvalidRingReplyError);
    expect(() => decodeRingReply(reply, 3)).toThrow(message);
  });
});
