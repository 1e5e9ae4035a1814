import { Ring, token } from '@kv/ring';
import { Phase, Placement } from './placement';

const small = { vnodesPerWeight: 64 };
const abc = new Ring(['a:1', 'b:1', 'c:1'], small);
const abcd = abc.add('d:1');

describe('Placement', () => {
  it('is settled, with the same replicas for reads and writes, when the rings are one', () => {
    const p = new Placement(5, abc, abc);
    expect(p.settled).toBe(true);
    expect(p.phaseOf('a:1')).toBe(Phase.SERVING);
    expect(p.phaseOf('z:1')).toBe(Phase.OUTSIDE);
    const key = Buffer.from('user:1');
    expect(p.writeReplicas(key)).toEqual({ replicas: abc.preferenceList(key), pending: 0 });
  });

  it('sends writes to a joining owner as well, and reads only to current owners', () => {
    const p = new Placement(6, abc, abcd);
    expect(p.phaseOf('d:1')).toBe(Phase.JOINING);
    let joiningKeys = 0;
    for (let i = 0; i < 200; i++) {
      const key = Buffer.from(`k${i}`);
      const { replicas, pending } = p.writeReplicas(key);
      const gains = abcd.preferenceList(key).includes('d:1');
      expect(pending).toBe(gains ? 1 : 0);
      expect(replicas.slice(0, 3)).toEqual(abc.preferenceList(key));
      expect(p.readReplicas(key)).toEqual(abc.preferenceList(key));
      expect(p.ownersOfToken(token(key)).sort()).toEqual(replicas.slice().sort());
      if (gains) joiningKeys++;
    }
    expect(joiningKeys).toBeGreaterThan(100);
  });

  it('sees a node that left the target ring as leaving', () => {
    const p = new Placement(7, abcd, abc);
    expect(p.phaseOf('d:1')).toBe(Phase.LEAVING);
    expect(p.members().sort()).toEqual(['a:1', 'b:1', 'c:1', 'd:1']);
    const t = token('k1');
    expect(p.targetOwnersOfToken(t)).toEqual(abc.preferenceListForToken(t));
    expect(p.readOwnersOfToken(t)).toEqual(abcd.preferenceListForToken(t));
  });
});
