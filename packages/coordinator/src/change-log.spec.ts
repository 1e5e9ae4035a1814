import { describeChange } from './change-log';

const member = { id: '127.0.0.1:5001', zone: 'a', weight: 1 };

describe('describeChange', () => {
  it('describes joins, updates and leaves at info level with the new epoch', () => {
    expect(describeChange({ kind: 'joined', member, epoch: 4 })).toEqual([
      { level: 'info', message: 'Node 127.0.0.1:5001 registered (zone a, weight 1), epoch 4' },
    ]);
    expect(
      describeChange({
        kind: 'updated',
        member: { ...member, zone: '', weight: 2 },
        previous: member,
        epoch: 5,
      }),
    ).toEqual([
      {
        level: 'info',
        message:
          'Node 127.0.0.1:5001 re-registered (no zone, weight 2; was zone a, weight 1), epoch 5',
      },
    ]);
    expect(describeChange({ kind: 'left', member, epoch: 6 })).toEqual([
      { level: 'info', message: 'Node 127.0.0.1:5001 unregistered, epoch 6' },
    ]);
  });

  it('reports a death at warn level in the exact words of the original coordinator', () => {
    expect(describeChange({ kind: 'died', member, silentMs: 5012.7, epoch: 7 })).toEqual([
      { level: 'warn', message: 'Node 127.0.0.1:5001 marked as dead and removed' },
      { level: 'debug', message: 'Node 127.0.0.1:5001 was silent for 5013 ms, epoch 7' },
    ]);
  });
});
