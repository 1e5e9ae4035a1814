import { RebalanceProgress } from './rebalance-progress';

describe('RebalanceProgress', () => {
  it('shows nothing for a node with nothing to move', () => {
    const progress = new RebalanceProgress(() => 0);
    expect(progress.update('a', { moving: false, pending: 0 })).toBeUndefined();
  });

  it('measures progress against the most work seen, then keeps the bar complete for a while', () => {
    let now = 0;
    const progress = new RebalanceProgress(() => now, 1000);
    expect(progress.update('a', { moving: true, pending: 0 })).toEqual({
      active: true,
      fraction: 0,
    });
    expect(progress.update('a', { moving: true, pending: 8 })).toEqual({
      active: true,
      fraction: 0,
    });
    expect(progress.update('a', { moving: true, pending: 2 })).toEqual({
      active: true,
      fraction: 0.75,
    });
    // Still joining with nothing pending: not complete until the coordinator says so.
    expect(progress.update('a', { moving: true, pending: 0 })).toEqual({
      active: true,
      fraction: 0.99,
    });
    expect(progress.update('a', { moving: false, pending: 0 })).toEqual({
      active: false,
      fraction: 1,
    });
    now = 1000;
    expect(progress.update('a', { moving: false, pending: 0 })).toEqual({
      active: false,
      fraction: 1,
    });
    now = 1001;
    expect(progress.update('a', { moving: false, pending: 0 })).toBeUndefined();
  });

  it('starts afresh when work comes back after completing, and forgets members gone', () => {
    const progress = new RebalanceProgress(() => 0);
    progress.update('a', { moving: false, pending: 10 });
    progress.update('a', { moving: false, pending: 0 });
    expect(progress.update('a', { moving: false, pending: 4 })).toEqual({
      active: true,
      fraction: 0,
    });
    progress.retain(new Set(['b']));
    expect(progress.update('a', { moving: false, pending: 0 })).toBeUndefined();
  });
});
