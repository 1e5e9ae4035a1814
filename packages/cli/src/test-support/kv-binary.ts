import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The built `kv` script the tests run, as users run it. */
export const KV_BIN = join(__dirname, '..', '..', 'dist', 'bin.js');

/** Fails with a clear message when the package has not been built. */
export function assertBuilt(): void {
  if (!existsSync(KV_BIN)) {
    throw new Error(`${KV_BIN} is missing: build the package first (npx nx build cli)`);
  }
}

/** What a finished `kv` run printed and how it exited. */
export interface KvRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runKv}. */
export interface RunOptions {
  /** Written to stdin, which is then closed (end of input, as Ctrl-D). */
  readonly input?: string;
  /** Added to a clean environment (no KV_* from the caller). */
  readonly env?: Readonly<Record<string, string>>;
  /** Give up (SIGKILL) after this long; only a safety net against a hang. */
  readonly limitMs?: number;
}

let secretDir: string | undefined;

/**
 * Where `kv cluster` keeps its secret in these tests (and `kv` finds it): a directory of
 * this test process, never the user's ~/.kv; removed on exit.
 */
export function testSecretFile(): string {
  if (secretDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'kv-cli-secret-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    secretDir = dir;
  }
  return join(secretDir, 'cluster.secret');
}

/** An environment without the caller's KV_* settings, so tests do not depend on them. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('KV_')) env[name] = value;
  }
  return {
    ...env,
    KV_HISTORY_FILE: '/dev/null',
    KV_CLUSTER_SECRET_FILE: testSecretFile(),
    ...extra,
  };
}

/** Starts `kv` with `args`; stdin, stdout and stderr are pipes. */
export function spawnKv(
  args: readonly string[],
  env?: Readonly<Record<string, string>>,
): ChildProcess {
  assertBuilt();
  return spawn(process.execPath, [KV_BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `kv` with `args` to completion. */
export function runKv(args: readonly string[], options: RunOptions = {}): Promise<KvRun> {
  const child = spawnKv(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin?.end(options.input ?? '');
  const guard = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 20_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The lines of an output, without the empty one after the last newline. */
export function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
