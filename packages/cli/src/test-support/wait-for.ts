/**
 * Polls `condition` every few milliseconds until it holds. Gives up after `limitMs` with an
 * error naming `what` (or saying what `what()` returns then, such as the output so far), so a
 * broken test fails with a message instead of a jest timeout.
 * Nothing here asserts how long anything takes.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string | (() => string) = 'the condition',
  limitMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`gave up waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
