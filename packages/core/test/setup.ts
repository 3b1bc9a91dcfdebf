import { createJsBackend } from '@tessera/backend-js';
import { expect } from 'vitest';
import { memory, setBackend, type TesseraError } from '../src/index.js';

/** Makes a fresh reference backend current (each test file runs in its own module graph). */
export async function useJs() {
  return setBackend(await createJsBackend());
}

/**
 * Runs `fn`, expecting a TesseraError of class `type` whose message matches every pattern,
 * and no tensor left behind.
 */
export function expectTyped(fn: () => unknown, type: new (...a: never[]) => TesseraError, ...patterns: RegExp[]): void {
  const before = memory();
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'no error was thrown').toBeInstanceOf(type);
  for (const p of patterns) expect((caught as Error).message).toMatch(p);
  const after = memory();
  expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
}
