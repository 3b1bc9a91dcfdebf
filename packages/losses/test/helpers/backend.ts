/** Test setup: the reference backend, a seeded PRNG and the leak check every gradient test uses. */
import { getBackend, init, memory, type Tensor } from '@tessera/core';
import { createJsBackend } from '@tessera/backend-js';
import { expect } from 'vitest';
import { createTestBackend } from '../../../../scripts/test-backend.mjs';

/** Initialises the js backend once per test file. */
export async function setupBackend(): Promise<void> {
  try {
    getBackend();
  } catch {
    const other = await createTestBackend();
    const r = other ? await init({ backends: { [other.name]: async () => other } }) : await init({ backends: { js: createJsBackend } });
    if (!r.backend) throw new Error(`no backend: ${JSON.stringify(r.failures)}`);
  }
}

/** mulberry32: a small deterministic PRNG in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Live tensors and bytes now. */
export function snapshot(): { numTensors: number; numBytes: number } {
  const m = memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

/**
 * Runs `fn`, disposes what `owned` picks out of its result, and expects live tensors and
 * bytes to be back where they were.
 */
export function expectNoLeak<T>(fn: () => T, owned: (r: T) => readonly Tensor[]): T {
  const before = snapshot();
  const r = fn();
  for (const t of owned(r)) t.dispose();
  expect(snapshot()).toEqual(before);
  return r;
}
