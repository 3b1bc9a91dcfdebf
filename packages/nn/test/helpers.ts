import { createJsBackend } from '@tessera/backend-js';
import { memory, oneHot, setBackend, tensor, type Tensor } from '@tessera/core';
import { type GoldenTensor, worstMismatch } from '@tessera/data/golden';
import { expect } from 'vitest';
import { createTestBackend } from '../../../scripts/test-backend.mjs';

/**
 * Makes a fresh backend current (each test file has its own module graph): js, or the one
 * TESSERA_TEST_BACKEND names (see scripts/test-backend.mjs).
 */
export async function useTestBackend(): Promise<void> {
  setBackend((await createTestBackend()) ?? (await createJsBackend()));
}

/** Live tensors and bytes now, to compare at the end of a test. */
export function snapshot(): { numTensors: number; numBytes: number } {
  const m = memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}

/** Asserts that live tensors and bytes are back where `before` had them. */
export function expectNoLeak(before: { numTensors: number; numBytes: number }): void {
  const m = memory();
  expect({ numTensors: m.numTensors, numBytes: m.numBytes }).toEqual(before);
}

/** A tensor from a stored golden input (I32 → int32, otherwise float32). */
export function toTensor(h: GoldenTensor): Tensor {
  return h.dtype === 'I32' ? tensor(Int32Array.from(h.data), h.shape, 'int32') : tensor(Float32Array.from(h.data), h.shape);
}

/** Checks the shape and |got - want| <= atol + rtol |want| everywhere; returns a message for the worst violation or null. */
export function compare(what: string, got: ArrayLike<number>, gotShape: readonly number[], want: GoldenTensor, rtol: number, atol: number): string | null {
  if (gotShape.length !== want.shape.length || gotShape.some((d, i) => d !== want.shape[i])) return `${what}: shape [${gotShape.join(',')}] vs expected [${want.shape.join(',')}]`;
  const w = worstMismatch(got, want.data, rtol, atol);
  return w.excess <= 0 ? null : `${what}: element ${w.index} is ${w.got} but expected ${w.want} (rtol ${rtol}, atol ${atol})`;
}

/** Collects writes (a ProgressStream). */
export class Sink {
  text = '';
  isTTY = false;
  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }
  write(s: string): boolean {
    this.text += s;
    return true;
  }
}

/** 48 samples of 4 features; class = argmax of the first three. */
export function blobs(n = 48): { x: Tensor; labels: Tensor; y: Tensor } {
  const xs = new Float32Array(n * 4);
  const ls = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ls[i] = i % 3;
    for (let j = 0; j < 4; j++) xs[i * 4 + j] = (j === ls[i] ? 1 : 0) + 0.3 * Math.sin(i * 7 + j);
  }
  const labels = tensor(ls, [n], 'int32');
  return { x: tensor(xs, [n, 4]), labels, y: oneHot(labels, 3) };
}
