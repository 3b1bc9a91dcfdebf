import { createJsBackend } from '@tessera/backend-js';
import { memory, setBackend } from '@tessera/core';
import { expect } from 'vitest';

/** Makes a fresh js backend current (each test file has its own module graph). */
export async function useJs(): Promise<void> {
  setBackend(await createJsBackend());
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
