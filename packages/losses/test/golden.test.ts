/**
 * Replays every golden case of kind `loss` (losses.json) through `getLoss` with the case's
 * Keras name and options: the loss value, the per-sample losses (reduction 'none') and the
 * gradient of the loss with respect to the prediction. One test per case.
 */
import * as c from '@tessera/core';
import type { Tensor } from '@tessera/core';
import { vjp } from '@tessera/autograd';
import { goldenCases, worstMismatch, type GoldenTensor } from '@tessera/data/golden';
import { beforeAll, describe, expect, it } from 'vitest';
import { getLoss } from '../src/index.js';
import { setupBackend, snapshot } from '../../../scripts/test-helpers.mjs';
import { getBackend as currentBackend } from '@tessera/core';
import { testBackendName } from '../../../scripts/test-backend.mjs';

beforeAll(setupBackend);

const RTOL = 1e-4;
const ATOL = 1e-5;

function toTensor(h: GoldenTensor): Tensor {
  if (h.dtype === 'I32') return c.tensor(Int32Array.from(h.data), h.shape, 'int32');
  return c.tensor(Float32Array.from(h.data), h.shape, 'float32');
}

async function expectClose(got: Tensor, want: GoldenTensor, what: string): Promise<void> {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const w = worstMismatch(await got.data(), want.data, RTOL, ATOL);
  expect(w.excess, `${what}: element ${w.index} is ${w.got}, expected ${w.want}`).toBeLessThanOrEqual(0);
}

/** Loss options from a case's attrs (snake_case Keras names). */
function optionsOf(a: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (a.from_logits === true) o.fromLogits = true;
  if (typeof a.delta === 'number') o.delta = a.delta;
  if (typeof a.label_smoothing === 'number') o.labelSmoothing = a.label_smoothing;
  if (typeof a.axis === 'number') o.axis = a.axis;
  return o;
}

const cases = goldenCases(['loss']);
describe('golden loss cases', () => {
  it('runs on the backend TESSERA_TEST_BACKEND names (default js)', () => {
    expect(currentBackend().name).toBe(testBackendName());
  });

  it('finds the golden data (TESSERA_GOLDEN_DIR, default ../shared/golden)', () => {
    expect(cases.length === 0).toBe(false);
  });

  for (const { golden, gc } of cases) {
    it(`${golden.manifest.file}: loss ${gc.id} (${String(gc.attrs.loss)})`, async () => {
      const get = (name: string): GoldenTensor => {
        const t = golden.tensors.get(name);
        if (!t) throw new Error(`tensor ${name} missing`);
        return t;
      };
      const loss = getLoss(String(gc.attrs.loss));
      const opts = optionsOf(gc.attrs);
      for (const fused of [true, false]) {
        // The ops run inside withFusedKernels (synchronous); the reads are awaited after it.
        const [yTrue, yPred] = gc.inputs.map((n) => toTensor(get(n))) as [Tensor, Tensor];
        const before = snapshot();
        const { value, grads } = c.withFusedKernels(fused, () => vjp((p) => loss(yTrue, p!, opts), [yPred]));
        await expectClose(value, get(gc.outputs[0]!), `${gc.id} loss (fused ${fused})`);
        for (const [input, gradName] of Object.entries(gc.grads ?? {})) {
          expect(input, `${gc.id}: gradients are wrt the prediction`).toBe(gc.inputs[1]);
          await expectClose(grads[0]!, get(gradName), `${gc.id} gradient (fused ${fused})`);
        }
        c.dispose([value, ...grads]);
        expect(snapshot(), `${gc.id}: leak`).toEqual(before);
        if (gc.outputs[1]) {
          const per = c.withFusedKernels(fused, () => loss(yTrue, yPred, { ...opts, reduction: 'none' }));
          await expectClose(per, get(gc.outputs[1]), `${gc.id} per-sample loss (fused ${fused})`);
          per.dispose();
        }
        c.dispose([yTrue, yPred]);
      }
    });
  }
});
