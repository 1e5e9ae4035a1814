import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';
import { FAILED_KEY, SCOPE_KEY } from './test-state';

/**
 * The node test environment, plus what the harness needs to know about the test running:
 * whether it failed (to print the output of its processes then, and only then), and
 * whether a `beforeAll` hook is running (processes started there live until the file ends).
 */
export default class E2eEnvironment extends TestEnvironment {
  handleTestEvent(event: Circus.Event): void {
    const global = this.global as unknown as Record<string, unknown>;
    switch (event.name) {
      case 'hook_start':
        if (event.hook.type === 'beforeAll') global[SCOPE_KEY] = 'file';
        break;
      case 'test_start':
        global[SCOPE_KEY] = 'test';
        global[FAILED_KEY] = false;
        break;
      case 'test_fn_failure':
      case 'hook_failure':
        global[FAILED_KEY] = true;
        break;
      default:
        break;
    }
  }
}
