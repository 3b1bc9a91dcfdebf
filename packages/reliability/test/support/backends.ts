/**
 * Creates each backend by name for the reliability tests: js from @tessera/backend-js, the
 * optional ones through scripts/test-backend.mjs (their built files in this checkout). A
 * backend that cannot be created on this machine is reported with the reason, so its cases
 * are skipped loudly rather than silently.
 */
import { createJsBackend } from '@tessera/backend-js';
import { type Backend, memory, setBackend } from '@tessera/core';
import { createTestBackend } from '../../../../scripts/test-backend.mjs';

/** Every backend the reliability suite runs on. */
export const BACKENDS = ['js', 'wasm', 'native', 'webgpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

const cache = new Map<BackendName, Promise<{ backend: Backend | null; reason: string | null }>>();

/** Creates (once per test file) the backend `name`, or gives the reason it cannot start here. */
export function openBackend(name: BackendName): Promise<{ backend: Backend | null; reason: string | null }> {
  let p = cache.get(name);
  if (p === undefined) {
    p = (async () => {
      try {
        if (name === 'js') return { backend: await createJsBackend(), reason: null };
        const saved = process.env.TESSERA_TEST_BACKEND;
        process.env.TESSERA_TEST_BACKEND = name;
        try {
          const b = (await createTestBackend()) as Backend | null;
          if (b === null) return { backend: null, reason: `${name}: createTestBackend returned null` };
          return { backend: b, reason: null };
        } finally {
          if (saved === undefined) delete process.env.TESSERA_TEST_BACKEND;
          else process.env.TESSERA_TEST_BACKEND = saved;
        }
      } catch (e) {
        const reason = `${name} backend cannot be created on this machine: ${(e as Error).message}`;
        console.warn(`[reliability] skipping ${name}: ${reason}`);
        return { backend: null, reason };
      }
    })();
    cache.set(name, p);
  }
  return p;
}

/** Live tensors and bytes (core's count) and the backend's own live buffers and bytes. */
export interface Accounting {
  numTensors: number;
  numBytes: number;
  liveBuffers: number;
  liveBytes: number;
}

/**
 * Core's counts for `backend` (from `memory().backends`) plus `backend.storage.stats()` now.
 * Per backend, because other backends of the same file may hold tensors of their own.
 */
export function accounting(backend: Backend): Accounting {
  const m = memory();
  const mine = Object.entries(m.backends).filter(([k]) => k === backend.name || k.startsWith(`${backend.name}#`));
  const numTensors = mine.reduce((a, [, b]) => a + b.numTensors, 0);
  const numBytes = mine.reduce((a, [, b]) => a + b.liveBytes, 0);
  const s = backend.storage.stats();
  return { numTensors, numBytes, liveBuffers: s.liveBuffers, liveBytes: s.liveBytes };
}

/** Makes `backend` current. */
export function use(backend: Backend): void {
  setBackend(backend);
}
