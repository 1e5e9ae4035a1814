import { COUNTERS, GAUGES } from './metric-names';
import { NodeMetrics } from './metrics';

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

  it('counts known commands by name and result, times them, and knows no others', async () => {
    const metrics = new NodeMetrics(['GET', 'SET']);
    metrics.command('GET')?.record(true, 0.0002);
    metrics.command('GET')?.record(false, 0.003);
    expect(metrics.command('NOPE')).toBeUndefined();
    expect([...metrics.commandCalls()]).toEqual([['GET', 2]]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('kv_commands_total{command="GET",result="ok"} 1');
    expect(text).toContain('kv_commands_total{command="GET",result="error"} 1');
    expect(text).toContain('kv_command_duration_seconds_bucket{command="GET",le="0.00025"} 1');
    expect(text).toContain('kv_command_duration_seconds_count{command="GET"} 2');
    expect(text).not.toContain('command="SET"');
    expect(metrics.p99(['GET', 'SET'])).toBeGreaterThan(0.0025);
    expect(metrics.p99(['SET'])).toBe(0);
  });

  it('counts the syncs of the write-ahead log: their time, the writes and bytes they made durable', async () => {
    const metrics = new NodeMetrics();
    metrics.logSynced({ writes: 46, bytes: 3000, seconds: 0.0002 });
    metrics.logSynced({ writes: 4, bytes: 300, seconds: 0.03 });
    metrics.readFrom({ commitsFailing: () => 1 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('kv_log_sync_duration_seconds_bucket{le="0.00025"} 1');
    expect(text).toContain('kv_log_sync_duration_seconds_bucket{le="0.05"} 2');
    expect(text).toContain('kv_log_sync_duration_seconds_count 2');
    expect(text).toContain('kv_log_synced_writes_total 50');
    expect(text).toContain('kv_log_synced_bytes_total 3300');
    expect(text).toContain('kv_storage_commits_failing 1');
    expect(metrics.logSyncs.quantile(0.99)).toBeGreaterThan(0.025);
  });

  it('reads live gauges from their sources when scraped', async () => {
    const metrics = new NodeMetrics();
    let keys = 1;
    metrics.readFrom({ keys: () => keys });
    expect(await metrics.registry.metrics()).toMatch(/^kv_keys 1$/m);
    keys = 7;
    expect(await metrics.registry.metrics()).toMatch(/^kv_keys 7$/m);
    expect(await metrics.registry.metrics()).toMatch(/^kv_ring_epoch 0$/m);
  });
});
