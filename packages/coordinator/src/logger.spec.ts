import { capturingLogger } from './test-support/log-sink';

describe('createLogger', () => {
  it('writes pretty lines as "[Component] message"', () => {
    const { logger, lines } = capturingLogger();
    const coordinator = logger.child({ component: 'Coordinator' });
    coordinator.info('Started on 127.0.0.1:5000');
    coordinator.warn('Node 127.0.0.1:5001 marked as dead and removed');
    logger.info('no component');
    expect(lines).toEqual([
      '[Coordinator] Started on 127.0.0.1:5000',
      '[Coordinator] Node 127.0.0.1:5001 marked as dead and removed',
      'no component',
    ]);
  });

  it('writes one JSON object per line with level, message and timestamp', () => {
    const { logger, lines } = capturingLogger({ format: 'json' });
    logger
      .child({ component: 'Coordinator' })
      .warn('Node 127.0.0.1:5001 marked as dead and removed');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(entry).toEqual({
      level: 'warn',
      message: 'Node 127.0.0.1:5001 marked as dead and removed',
      component: 'Coordinator',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
    });
  });

  it('writes only the levels at or above its level', () => {
    const { logger, lines } = capturingLogger({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines).toEqual(['w', 'e']);
    const verbose = capturingLogger({ level: 'debug' });
    verbose.logger.debug('d');
    expect(verbose.lines).toEqual(['d']);
  });

  it('writes nothing when silent', () => {
    const { logger, lines } = capturingLogger({ silent: true });
    logger.error('e');
    expect(lines).toEqual([]);
  });
});
