import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryFile, historyFilePath } from './history';

describe('HistoryFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kv-history-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves oldest first, loads newest first, owner-only', () => {
    const file = join(dir, 'h');
    const history = new HistoryFile(file, () => undefined);
    history.save(['GET b', 'PUT a 1']);
    expect(readFileSync(file, 'utf8')).toBe('PUT a 1\nGET b\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(history.load()).toEqual(['GET b', 'PUT a 1']);
  });

  it('keeps at most the configured number of lines', () => {
    const file = join(dir, 'h');
    writeFileSync(file, Array.from({ length: 10 }, (_, i) => `GET k${i}`).join('\n'));
    const history = new HistoryFile(file, () => undefined, 3);
    expect(history.load()).toEqual(['GET k9', 'GET k8', 'GET k7']);
    history.save(['a', 'b', 'c', 'd', 'e']);
    expect(readFileSync(file, 'utf8')).toBe('c\nb\na\n');
  });

  it('treats a missing file as an empty history, silently', () => {
    const warn = jest.fn();
    expect(new HistoryFile(join(dir, 'none'), warn).load()).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns once and goes on when the file cannot be read or written', () => {
    const warn = jest.fn();
    const history = new HistoryFile(join(dir, 'missing-dir', 'h'), warn);
    history.save(['GET a']);
    history.save(['GET b']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/^cannot write the history file .*\(ENOENT\)/);

    const unreadable = new HistoryFile(dir, jest.fn());
    expect(unreadable.load()).toEqual([]);
  });

  it('does not fail on a file it may not read', () => {
    const file = join(dir, 'locked');
    writeFileSync(file, 'GET a\n');
    chmodSync(file, 0o000);
    const warn = jest.fn();
    const history = new HistoryFile(file, warn);
    expect(() => history.load()).not.toThrow();
    chmodSync(file, 0o600);
  });
});

describe('historyFilePath', () => {
  it('is $KV_HISTORY_FILE, or ~/.kv_history', () => {
    expect(historyFilePath({ KV_HISTORY_FILE: '/tmp/x' })).toBe('/tmp/x');
    expect(historyFilePath({ KV_HISTORY_FILE: '' }, () => '/home/a')).toBe('/home/a/.kv_history');
    expect(historyFilePath({}, () => '/home/a')).toBe('/home/a/.kv_history');
  });
});
