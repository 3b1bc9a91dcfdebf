/**
 * Replays every golden case of kind `optimizer` (optimizers.json): one optimizer instance
 * built by `getOptimizer(attrs.optimizer, <its numeric and boolean attrs>)`, the parameters
 * as variables, each step's gradients applied in order, and the parameters compared with the
 * stored history after every step. Fused kernels on and off; memory flat across steps.
 */
import * as c from '@tessera/core';
import { variable } from '@tessera/autograd';
import { goldenCases, worstMismatch, type GoldenTensor } from '@tessera/data/golden';
import { beforeAll, describe, expect, it } from 'vitest';
import { getOptimizer } from '../src/index.js';
import { setupBackend, snapshot } from '../../../scripts/test-helpers.mjs';
import { getBackend as currentBackend } from '@tessera/core';
import { testBackendName } from '../../../scripts/test-backend.mjs';

beforeAll(setupBackend);

const RTOL = 1e-4;
const ATOL = 1e-5;
/** Attributes that describe the case layout rather than the optimizer. */
const LAYOUT = new Set(['optimizer', 'steps', 'update', 'layout', 'parameters']);

const cases = goldenCases(['optimizer']);
describe('golden optimizer cases', () => {
  it('runs on the backend TESSERA_TEST_BACKEND names (default js)', () => {
    expect(currentBackend().name).toBe(testBackendName());
  });

  it('finds the golden data (TESSERA_GOLDEN_DIR, default ../shared/golden)', () => {
    expect(cases.length === 0).toBe(false);
  });

  for (const { golden, gc } of cases) {
    it(`${golden.manifest.file}: optimizer ${gc.id} (${String(gc.attrs.optimizer)})`, async () => {
      const get = (name: string): GoldenTensor => {
        const t = golden.tensors.get(name);
        if (!t) throw new Error(`tensor ${name} missing`);
        return t;
      };
      const config: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(gc.attrs)) if (!LAYOUT.has(k) && (typeof v === 'number' || typeof v === 'boolean')) config[k] = v;
      const steps = Number(gc.attrs.steps);
      const params = gc.params ?? [];
      for (const fused of [true, false]) {
        // Each step runs inside withFusedKernels (synchronous); the reads are awaited after it.
        const opt = getOptimizer(String(gc.attrs.optimizer), config);
        const vars = params.map((p) => {
          const h = get(p);
          const t = c.tensor(Float32Array.from(h.data), h.shape);
          const v = variable(t, { name: p });
          t.dispose();
          return v;
        });
        let flat: ReturnType<typeof snapshot> | undefined;
        for (let step = 0; step < steps; step++) {
          const grads = new Map(
            vars.map((v, i) => {
              const h = get(gc.inputs[i]!);
              const per = h.data.length / steps;
              const gt = c.tensor(Float32Array.from(h.data.subarray(step * per, (step + 1) * per)), h.shape.slice(1));
              return [v, gt] as const;
            }),
          );
          c.withFusedKernels(fused, () => opt.applyGradients(grads));
          for (const gt of grads.values()) gt.dispose();
          expect(opt.iterations).toBe(step + 1);
          const values = await Promise.all(vars.map((v) => v.value.data()));
          vars.forEach((_v, i) => {
            const h = get(gc.outputs[i]!);
            const per = h.data.length / steps;
            const w = worstMismatch(values[i]!, h.data.subarray(step * per, (step + 1) * per), RTOL, ATOL);
            expect(w.excess, `${gc.id} step ${step + 1} ${params[i]} (fused ${fused}): element ${w.index} is ${w.got}, expected ${w.want}`).toBeLessThanOrEqual(0);
          });
          // Slots exist after the first step; from then on every step leaves memory flat.
          if (flat === undefined) flat = snapshot();
          else expect(snapshot(), `${gc.id}: memory grows at step ${step + 1}`).toEqual(flat);
        }
        opt.dispose();
        for (const v of vars) v.dispose();
      }
    });
  }
});
