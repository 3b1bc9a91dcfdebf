/**
 * Gradients of every recorded op against central finite differences (float64 on the host),
 * with fused kernels on and off, and a leak check around every gradient call.
 */
import { setOpRecorder, withFusedKernels, dispose } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { listGradients } from '../src/index.js';
import { allCases, CORE_RECORDED_OPS, NON_FLOAT_OPS } from './cases.js';
import { setupBackend, rng } from '../../../scripts/test-helpers.mjs';
import { checkGradCase, makeInputs } from './helpers/gradcheck.js';
import { testBackendName } from '../../../scripts/test-backend.mjs';
import * as c from '@tessera/core';

beforeAll(setupBackend);

it('runs on the backend TESSERA_TEST_BACKEND names (default js)', () => {
  expect(c.getBackend().name).toBe(testBackendName());
});

const cases = allCases();

describe('gradient of every recorded op vs finite differences', () => {
  cases.forEach((gc, k) => {
    it(`${gc.name} (fused kernels on)`, () => checkGradCase(gc, rng(1000 + k), true));
    it(`${gc.name} (fused kernels off)`, () => checkGradCase(gc, rng(1000 + k), false));
  });
});

describe('coverage', () => {
  it('each case records the ops it claims', () => {
    for (const [k, gc] of cases.entries()) {
      const xs = makeInputs(gc.inputs, rng(1000 + k)).map((h, i) => {
        const dt = gc.inputs[i]!.dtype ?? 'float32';
        return c.tensor(dt === 'float32' ? Float32Array.from(h.data) : Int32Array.from(h.data), h.shape, dt);
      });
      for (const fused of [true, false]) {
        const seen = new Set<string>();
        const prev = setOpRecorder((r) => seen.add(r.name));
        let y: c.Tensor;
        try {
          y = withFusedKernels(fused, () => c.tidy(() => gc.fn(...xs)));
        } finally {
          setOpRecorder(prev);
        }
        y.dispose();
        for (const op of gc.ops) expect(seen.has(op), `${gc.name} records ${op} (fused ${fused}); saw ${[...seen]}`).toBe(true);
      }
      dispose(xs);
    }
  });

  it('every op the core records has a rule or never carries float gradients, and has a case', () => {
    const tested = new Set(cases.flatMap((gc) => gc.ops));
    const rules = new Set(listGradients());
    for (const op of CORE_RECORDED_OPS) {
      if (NON_FLOAT_OPS.includes(op)) continue;
      expect(rules.has(op), `rule for ${op}`).toBe(true);
      if (op !== 'floorDiv') expect(tested.has(op), `a gradient case for ${op}`).toBe(true);
    }
  });
});
