import { OK, type RespValue } from '@kv/protocol';
import { Ring } from '@kv/ring';
import { parseRingReply } from './ring-source';

describe('parseRingReply', () => {
  const ring = new Ring(['127.0.0.1:5001', '127.0.0.1:5002']);
  const json = Buffer.from(JSON.stringify(ring.toJSON()));

  it('reads a whole ring', () => {
    const snapshot = parseRingReply('c', [7, json], 3);
    expect(snapshot?.epoch).toBe(7);
    expect(snapshot?.ring.equals(ring)).toBe(true);
  });

  it('derives the new ring from the one it holds, placing keys as a ring read whole', () => {
    const next = ring.add('127.0.0.1:5003');
    const reply = [8, Buffer.from(JSON.stringify(next.toJSON()))];
    const derived = parseRingReply('c', reply, 7, ring);
    const whole = parseRingReply('c', reply, 7);
    expect(derived?.ring.equals(next)).toBe(true);
    for (let i = 0; i < 100; i++) {
      expect(derived?.ring.preferenceList(`k${i}`)).toEqual(whole?.ring.preferenceList(`k${i}`));
    }
  });

  it('reads "unchanged" when only the known epoch comes back', () => {
    expect(parseRingReply('c', [3], 3)).toBeUndefined();
  });

  it.each<[string, RespValue, string]>([
    ['not an array', OK, 'c sent an invalid RING reply: expected [epoch, ring]'],
    ['an epoch that is not a number', [Buffer.from('1'), json], 'expected [epoch, ring]'],
    ['another epoch without a ring', [4], 'epoch 4 without a ring'],
    ['a ring that is not a bulk string', [4, 5], 'the ring is not a bulk string'],
    ['a ring that is not JSON', [4, Buffer.from('{')], 'c sent an invalid RING reply: '],
    ['JSON that is not a ring', [4, Buffer.from('[]')], 'expected an object'],
  ])('rejects %s', (_what, reply, message) => {
    expect(() => parseRingReply('c', reply, 3)).toThrow(message);
  });
});
