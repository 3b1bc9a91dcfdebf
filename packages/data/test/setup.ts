import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { memory, setBackend, type Backend } from '@tessera/core';
import { jsBackend } from '@tessera/backend-js';
import { expect } from 'vitest';

/** Makes a fresh reference backend current. */
export function useJs(): Backend {
  return setBackend(jsBackend());
}

/** /work/main (the repository root). */
export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const datasetsDir = process.env.TESSERA_DATASETS_DIR ?? resolve(repoRoot, '../shared/datasets');

/** Live tensors and bytes now. */
export function live(): { tensors: number; bytes: number } {
  const m = memory();
  return { tensors: m.numTensors, bytes: m.numBytes };
}

/** Runs `fn` and checks that it leaves live tensors and bytes where they were. */
export async function expectNoLeak(fn: () => Promise<void> | void): Promise<void> {
  const before = live();
  await fn();
  expect(live()).toEqual(before);
}

/** All values of a tensor as a plain array. */
export function values(t: { dataSync(): ArrayLike<number> }): number[] {
  return Array.from(t.dataSync());
}
