// Test support shared by the autograd, losses and optim suites: the backend set-up, a seeded
// PRNG and the leak check. It lives here rather than in a package because autograd cannot
// depend on @tessera/conformance (conformance depends on autograd).
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { createTestBackend } from './test-backend.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The same module instances the packages import (pnpm links @tessera/* to these folders).
const core = await import(pathToFileURL(resolve(root, 'packages/core/dist/index.js')).href);
const { createJsBackend } = await import(pathToFileURL(resolve(root, 'packages/backend-js/dist/index.js')).href);

/** Initialises the backend once per test file: js, or the one TESSERA_TEST_BACKEND names. */
export async function setupBackend() {
  try {
    core.getBackend();
  } catch {
    const other = await createTestBackend();
    await core.init({ backends: other ? { [other.name]: async () => other } : { js: createJsBackend } });
  }
}

/** mulberry32: a small deterministic PRNG in [0, 1). */
export function rng(seed) {
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
export function snapshot() {
  const m = core.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

/**
 * Runs `fn`, disposes what `owned` picks out of its result, and expects live tensors and
 * bytes to be back where they were.
 */
export function expectNoLeak(fn, owned) {
  const before = snapshot();
  const r = fn();
  for (const t of owned(r)) t.dispose();
  expect(snapshot()).toEqual(before);
  return r;
}
