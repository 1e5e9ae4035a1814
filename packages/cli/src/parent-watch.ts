/** How often {@link watchParent} looks at the parent process id. */
const CHECK_INTERVAL_MS = 500;

/**
 * Calls `onOrphaned` once when this process's parent goes away (the process is handed to
 * another parent, such as init), checking every half second without keeping the process
 * alive. Returns a function that stops watching.
 *
 * Why: `npx kv node` runs kv under npm and a shell; npm 11 stops that shell on SIGTERM
 * without passing the signal on, so the server would run on as an orphan.
 */
export function watchParent(
  onOrphaned: () => void,
  parentPid: () => number = () => process.ppid,
  intervalMs = CHECK_INTERVAL_MS,
): () => void {
  const first = parentPid();
  const timer = setInterval(() => {
    if (parentPid() === first) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Whether npm started this process (`npx kv ...`, `npm start`): npm sets `npm_command`. */
export function startedByNpm(env: Readonly<Record<string, string | undefined>>): boolean {
  return env['npm_command'] !== undefined;
}
