import { childEnv } from './child-env';
import { runCommand, type CommandResult } from './run-command';

/**
 * The environment for npm run as a user would: without the `npm_*` variables an
 * enclosing `npm run` sets (they would point npm at this workspace).
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = childEnv();
  for (const name of Object.keys(env)) {
    if (/^npm_/i.test(name) || name === 'INIT_CWD') delete env[name];
  }
  return { ...env, ...extra };
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** Runs npm (or npx) in `cwd`; rejects with the transcript unless it exits 0. */
export async function npm(
  args: readonly string[],
  cwd: string,
  {
    timeoutMs = 240_000,
    npx = false,
    env,
  }: { timeoutMs?: number; npx?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const tool = npx ? NPX : NPM;
  const result = await runCommand(
    {
      name: `${npx ? 'npx' : 'npm'} ${args.join(' ')}`,
      command: tool,
      args,
      cwd,
      env: env ?? userEnv(),
    },
    timeoutMs,
  );
  return result;
}

/** Like {@link npm}, and fails unless it exits 0. */
export async function npmOk(
  args: readonly string[],
  cwd: string,
  options?: Parameters<typeof npm>[2],
): Promise<CommandResult> {
  const result = await npm(args, cwd, options);
  if (result.status.code !== 0) {
    throw new Error(`${args.join(' ')} failed in ${cwd}:\n${result.transcript}`);
  }
  return result;
}

/** One entry of `npm pack --json`. */
export interface PackResult {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly { path: string }[];
}

/** `npm pack --pack-destination dest` in a package folder: the tarball made. */
export async function npmPack(packageDir: string, dest: string): Promise<PackResult> {
  const result = await npmOk(['pack', '--json', '--pack-destination', dest], packageDir, {
    timeoutMs: 60_000,
  });
  // npm may print lifecycle output before the JSON.
  const json = result.stdout.slice(result.stdout.indexOf('['));
  const [packed] = JSON.parse(json) as PackResult[];
  if (!packed)
    throw new Error(`npm pack printed no result in ${packageDir}:\n${result.transcript}`);
  return packed;
}
