import { MemberLiveness } from './member-liveness';
import { NotRegisteredError } from './errors';

let t: number;
const now = (): number => t;
const member = (id: string) => ({ id, zone: '', weight: 1 });

beforeEach(() => {
  t = 1000;
});

describe('MemberLiveness', () => {
  it('keeps a restored member on probation until it heartbeats', () => {
    const liveness = new MemberLiveness(now, 10);
    liveness.restored('a:1');
    expect(liveness.stateOf('a:1')).toBe('probation');
    t += 40;
    expect(liveness.ageOf('a:1')).toBe(40);
    liveness.heartbeat('a:1');
    expect(liveness.stateOf('a:1')).toBe('up');
    expect(liveness.ageOf('a:1')).toBe(0);
    expect(() => liveness.heartbeat('b:1')).toThrow(NotRegisteredError);
  });

  it('remembers the most recent deaths only, and forgets a death when the member returns', () => {
    const liveness = new MemberLiveness(now, 2);
    for (const id of ['a:1', 'b:1', 'c:1']) liveness.heard(id);
    t += 300;
    expect(liveness.bury(member('a:1'))).toBe(300);
    liveness.bury(member('b:1'));
    liveness.bury(member('c:1'));
    expect(liveness.deadMembers().map((d) => d.member.id)).toEqual(['b:1', 'c:1']);
    expect(liveness.size).toBe(0);
    liveness.heard('b:1');
    expect(liveness.deadMembers().map((d) => d.member.id)).toEqual(['c:1']);
  });

  it('excuses time the coordinator did not run, never past now', () => {
    const liveness = new MemberLiveness(now, 2);
    liveness.heard('a:1');
    t += 500;
    liveness.heard('b:1');
    liveness.excuse(200);
    expect(liveness.silence()).toEqual([
      { id: 'a:1', silentMs: 300 },
      { id: 'b:1', silentMs: 0 },
    ]);
  });
});
