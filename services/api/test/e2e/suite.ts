/**
 * Suites of end-to-end tests that share one local stack.
 */
import { after, before, it } from 'node:test';
import { Stack, type StackOptions } from './stack.js';

/** What {@link onStack} gives a suite: its stack, and `test` with a timeout and diagnostics. */
export interface StackSuite {
  /** The suite's stack (available inside tests and hooks). */
  readonly stack: () => Stack;
  /** Declares a test that prints the stack's logs when it fails. */
  readonly test: (name: string, body: () => Promise<void>) => void;
}

/**
 * Declares tests that share one stack, started before the first and stopped after
 * the last (also when tests fail).
 */
export function onStack(
  options: { readonly testTimeoutMs: number; readonly stack?: StackOptions; readonly started?: (stack: Stack) => Promise<void> },
  body: (suite: StackSuite) => void,
): void {
  let stack: Stack | undefined;
  const current = (): Stack => {
    if (!stack) throw new Error('the stack is not running');
    return stack;
  };
  before(async () => {
    stack = await Stack.start(options.stack);
    await options.started?.(stack);
  });
  after(async () => {
    await stack?.stop();
  });
  body({
    stack: current,
    test: (name, run) => {
      it(name, { timeout: options.testTimeoutMs }, () => current().diagnose(run));
    },
  });
}
