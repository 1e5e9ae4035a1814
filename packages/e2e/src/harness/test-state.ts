/**
 * What the test environment ({@link ./environment}) tells the harness through the test's
 * global object: whether the running test failed, and whether processes started now belong
 * to one test (stopped after it) or to the whole file (started in `beforeAll`, stopped
 * after the file).
 */
export const FAILED_KEY = '__kvE2eTestFailed';
export const SCOPE_KEY = '__kvE2eScope';

/** Who owns a process: the current test, or the test file. */
export type Scope = 'test' | 'file';

function state(): Record<string, unknown> {
  return globalThis as unknown as Record<string, unknown>;
}

export function currentScope(): Scope {
  return state()[SCOPE_KEY] === 'file' ? 'file' : 'test';
}

export function currentTestFailed(): boolean {
  return state()[FAILED_KEY] === true;
}
