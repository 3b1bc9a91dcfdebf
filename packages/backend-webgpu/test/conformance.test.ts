import { describeConformance } from '@tessera/conformance';
import { afterAll } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { expect } from './conformance.expect.js';

let first: WebGpuBackend | null = null;
const started = performance.now();

// The shared suite on Dawn + lavapipe: every kernel, fused on and off, with leak,
// immutability, ordering and determinism checks.
describeConformance('webgpu', async () => {
  const be = await createWebGpuBackend();
  first ??= be;
  return be;
}, { expect });

afterAll(() => {
  if (first === null) return;
  const c = first.counters();
  console.log(`conformance webgpu: ${((performance.now() - started) / 1000).toFixed(1)} s, ${c.pipelines} pipelines, ${c.dispatches} dispatches, ${c.submits} submits`);
});
