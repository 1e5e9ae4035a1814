import { COUNTERS, GAUGES, NodeMetrics } from './metrics';

describe('NodeMetrics', () => {
  it('exposes every counter and gauge in its own registry, with the values code set', async () => {
    const metrics = new NodeMetrics(['GET', 'SET']);
    metrics.counters.quorumWrites.inc();
    metrics.counters.bytesReceived.inc(512);
    metrics.gauges.hintsPending.set(3);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kv_quorum_writes_total 1');
    expect(text).toContain('kv_sync_received_bytes_total 512');
    expect(text).toContain('kv_hints_pending 3');
    for (const spec of [...Object.values(COUNTERS), ...Object.values(GAUGES)])
      expect(text).toContain(`# TYPE ${spec.name} `);
    expect(Object.values(COUNTERS).every((spec) => spec.name.endsWith('_total'))).toBe(true);
    expect(new NodeMetrics().counters.quorumWrites.value).toBe(0);
  });

  it('counts known commands by name and ignores others', async () => {
    const metrics = new NodeMetrics(['GET', 'SET']);
    metrics.countCommand('GET');
    metrics.countCommand('GET');
    metrics.countCommand('NOPE');
    expect([...metrics.commandCalls()]).toEqual([['GET', 2]]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kv_commands_total{command="GET"} 2');
    expect(text).not.toContain('NOPE');
    expect(text).not.toContain('command="SET"');
  });
});
