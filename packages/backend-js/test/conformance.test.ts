import { describeConformance } from '@tessera/conformance';
import { createJsBackend } from '../src/index.js';

// The shared suite: every kernel, fused on and off, with leak/immutability/determinism checks.
describeConformance('js', createJsBackend);
