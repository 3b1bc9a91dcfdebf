/**
 * The shared conformance suite on the wasm backend: once on the calling thread alone, once
 * with the worker pool (every splittable op split across it, so the parallel paths run on
 * the suite's small cases too).
 */
import { describeConformance } from '@tessera/conformance';
import { createWasmBackend } from '../src/index.js';
import { expect } from './conformance.expect.js';

describeConformance('wasm', () => createWasmBackend({ threads: 1 }), { expect });
describeConformance('wasm (2 threads)', () => createWasmBackend({ threads: 2, parallelThreshold: 0 }), { expect });
