import type { Tensor } from '@tessera/core';
export function setupBackend(): Promise<void>;
export function rng(seed: number): () => number;
export function snapshot(): { numTensors: number; numBytes: number };
export function expectNoLeak<T>(fn: () => T, owned: (r: T) => readonly Tensor[]): T;
