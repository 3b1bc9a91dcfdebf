/**
 * The public API: grad / grads / valueAndGrad / vjp / variableGrads, variables, stopGradient,
 * noGrad, customGrad, higher-order gradients, errors, and memory (every gradient call is
 * leak-checked).
 */
import * as c from '@tessera/core';
import { getOpRecorder, tensor, TesseraError, type Tensor } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  customGrad,
  grad,
  grads,
  liveVariables,
  noGrad,
  registerGradient,
  stopGradient,
  valueAndGrad,
  variable,
  variableGrads,
  vjp,
} from '../src/index.js';
import { expectNoLeak, rng, setupBackend, snapshot } from '../../../scripts/test-helpers.mjs';
import { checkGradCase, type GradCase } from './helpers/gradcheck.js';
import { hmatmul, map, zip } from './helpers/host.js';

beforeAll(setupBackend);

const vals = (t: Tensor): number[] => Array.from(t.dataSync());
const near = (got: number[], want: number[], tol = 1e-5): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `[${i}] ${g} vs ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!))));
};

describe('grad, grads, valueAndGrad, vjp', () => {
  it('grad of x^3 and its dy argument', () => {
    const x = tensor([1, -2, 3]);
    const dy = tensor([1, 0.5, 2]);
    expectNoLeak(
      () => [grad((t) => c.mul(t, c.mul(t, t)))(x), grad((t) => c.pow(t, 3))(x, dy)],
      ([g1, g2]) => {
        near(vals(g1!), [3, 12, 27]);
        near(vals(g2!), [3, 6, 54]);
        return [g1!, g2!];
      },
    );
    c.dispose([x, dy]);
  });

  it('grads of several inputs, with broadcasting, and a JS-number operand', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([10, 20, 30]);
    expectNoLeak(
      () => grads((p, q) => c.mul(c.add(p, q), 2))([a, b]),
      ([ga, gb]) => {
        expect(ga!.shape).toEqual([2, 3]);
        expect(gb!.shape).toEqual([3]);
        near(vals(ga!), [2, 2, 2, 2, 2, 2]);
        near(vals(gb!), [4, 4, 4]);
        return [ga!, gb!];
      },
    );
    c.dispose([a, b]);
  });

  it('valueAndGrad returns the value and one gradient per argument', () => {
    const x = tensor([1, 2]);
    expectNoLeak(
      () => valueAndGrad((t) => c.sum(c.square(t)))(x),
      ({ value, grads: [g] }) => {
        near(vals(value), [5]);
        near(vals(g!), [2, 4]);
        return [value, g!];
      },
    );
    x.dispose();
  });

  it('vjp with an upstream gradient of the output shape; a wrong shape is rejected without leaking', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const u = tensor([[1, 0], [0, 2]]);
    expectNoLeak(
      () => vjp((t) => c.mul(t, 3), [x], u),
      ({ value, grads: [g] }) => {
        near(vals(g!), [3, 0, 0, 6]);
        return [value, g!];
      },
    );
    const bad = tensor([1, 2]);
    const before = snapshot();
    expect(() => vjp((t) => c.mul(t, 3), [x], bad)).toThrow(/dy has shape \[2\] but f's output has shape \[2,2\]/);
    expect(snapshot()).toEqual(before);
    c.dispose([x, u, bad]);
  });

  it('an input the output does not depend on, and int32 inputs, get zeros', () => {
    const x = tensor([1, 2]);
    const y = tensor([3, 4]);
    const k = tensor([1, 2], [2], 'int32');
    expectNoLeak(
      () => grads((p, _q, n) => c.mul(p, n))([x, y, k]),
      (gs) => {
        near(vals(gs[0]!), [1, 2]);
        near(vals(gs[1]!), [0, 0]);
        expect(gs[2]!.dtype).toBe('int32');
        near(vals(gs[2]!), [0, 0]);
        return gs;
      },
    );
    c.dispose([x, y, k]);
  });

  it('the same tensor passed twice gets the full gradient at both positions', () => {
    const x = tensor([2, 3]);
    expectNoLeak(
      () => grads((p, q) => c.mul(p, q))([x, x]),
      ([g1, g2]) => {
        expect(g1).not.toBe(g2);
        near(vals(g1!), [4, 6]);
        near(vals(g2!), [4, 6]);
        return [g1!, g2!];
      },
    );
    x.dispose();
  });

  it('f may return its input (identity) or a tensor from outside; neither is disposed', () => {
    const x = tensor([1, 2]);
    const outside = tensor([5]);
    expectNoLeak(
      () => [grad((t) => t)(x), grad(() => outside)(x)],
      ([g1, g2]) => {
        near(vals(g1!), [1, 1]);
        near(vals(g2!), [0, 0]);
        return [g1!, g2!];
      },
    );
    expect(x.isDisposed).toBe(false);
    expect(outside.isDisposed).toBe(false);
    const u = tensor([2, 3]);
    const g = grad((t) => t)(x, u);
    expect(g).not.toBe(u); // the caller's dy is never handed back as the gradient
    near(vals(g), [2, 3]);
    c.dispose([x, outside, u, g]);
  });

  it('intermediates of f are freed even when f does not dispose them; f may dispose its inputs', () => {
    const x = tensor([1, 2, 3]);
    const before = snapshot();
    const g = grad((t) => {
      const a = c.exp(t);
      const b = c.mul(a, t);
      t.dispose(); // the tape holds its own handles
      return c.sum(b);
    })(x);
    near(vals(g), [1, 2, 3].map((v) => Math.exp(v) * (1 + v)));
    g.dispose();
    expect(x.isDisposed).toBe(true);
    // x was disposed inside f: one tensor fewer than before, and its bytes.
    expect(snapshot()).toEqual({ numTensors: before.numTensors - 1, numBytes: before.numBytes - 12 });
  });

  it('tidy scopes inside f do not free what the tape holds', () => {
    const x = tensor([0.5, -1]);
    expectNoLeak(
      () => grad((t) => c.tidy(() => c.sum(c.tanh(c.mul(t, 2)))))(x),
      (g) => {
        near(vals(g), [0.5, -1].map((v) => 2 * (1 - Math.tanh(2 * v) ** 2)));
        return [g];
      },
    );
    x.dispose();
  });

  it('gradient calls inside a tidy scope return tensors owned by that scope', () => {
    const x = tensor([1, 2]);
    const before = snapshot();
    const kept = c.tidy(() => {
      const g = grad((t) => c.square(t))(x);
      return c.add(g, 1);
    });
    near(vals(kept), [3, 5]);
    kept.dispose();
    expect(snapshot()).toEqual(before);
    x.dispose();
  });

  it('errors in f leave no tape installed and leak nothing', () => {
    const x = tensor([1, 2]);
    const before = snapshot();
    expect(() =>
      grad((t) => {
        c.exp(t);
        throw new Error('boom');
      })(x),
    ).toThrow('boom');
    expect(getOpRecorder()).toBeNull();
    expect(snapshot()).toEqual(before);
    expect(() => grad(() => 3 as unknown as Tensor)(x)).toThrow(/f must return a Tensor/);
    expect(getOpRecorder()).toBeNull();
    expect(snapshot()).toEqual(before);
    x.dispose();
  });

  it('an op without a rule throws a TesseraError naming it, only when a gradient flows through it', () => {
    const x = tensor([1, 2]);
    const before = snapshot();
    // Simulate an op the core would record but that has no rule.
    const mystery = (t: Tensor): Tensor => {
      const out = c.clone(t);
      const rec = getOpRecorder();
      const y = c.mul(out, 1);
      out.dispose();
      rec?.({ name: 'mysteryOp', inputs: [t], output: y, attrs: {} });
      return y;
    };
    let err: unknown;
    try {
      grad((t) => c.sum(mystery(t)))(x);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TesseraError);
    expect(String((err as Error).message)).toMatch(/op 'mysteryOp' has no gradient rule/);
    expect(getOpRecorder()).toBeNull();
    expect(snapshot()).toEqual(before);
    // No gradient flows through it: no error.
    expectNoLeak(
      () =>
        grad((t) => {
          mystery(t);
          return c.sum(c.square(t));
        })(x),
      (g) => {
        near(vals(g), [2, 4]);
        return [g];
      },
    );
    // Non-differentiable ops (compare, argmax) simply stop the gradient.
    expectNoLeak(
      () => grad((t) => c.add(c.sum(c.cast(c.greater(t, 1), 'float32')), c.sum(c.cast(c.argmax(t), 'float32'))))(x),
      (g) => {
        near(vals(g), [0, 0]);
        return [g];
      },
    );
    x.dispose();
  });
});

describe('stopGradient, noGrad, customGrad', () => {
  it('stopGradient treats its argument as a constant', () => {
    const x = tensor([1, 2]);
    expectNoLeak(
      () => grad((t) => c.mul(t, stopGradient(t)))(x),
      (g) => {
        near(vals(g), [1, 2]);
        return [g];
      },
    );
    x.dispose();
  });

  it('noGrad records nothing, also for outer tapes', () => {
    const x = tensor([1, 2]);
    expectNoLeak(
      () => grad((t) => c.add(c.square(t), noGrad(() => c.square(t))))(x),
      (g) => {
        near(vals(g), [2, 4]);
        return [g];
      },
    );
    expect(noGrad(() => getOpRecorder())).toBeNull();
    x.dispose();
  });

  it('customGrad uses the given gradient function and saved tensors', () => {
    const clipGrad = customGrad((t: Tensor, save: (ts: Tensor[]) => void) => {
      save([t]);
      return { value: c.square(t), gradFunc: (dy: Tensor, [saved]: readonly Tensor[]) => c.clip(c.mul(dy, c.mul(saved!, 2)), -1, 1) };
    });
    const x = tensor([0.1, 3, -4]);
    expectNoLeak(
      () => grad((t) => clipGrad(t))(x),
      (g) => {
        near(vals(g), [0.2, 1, -1]);
        return [g];
      },
    );
    const y = clipGrad(x); // outside any tape: just the value
    near(vals(y), [0.01, 9, 16]);
    c.dispose([x, y]);
  });
});

describe('variables and variableGrads', () => {
  it('names are unique, values are owned copies, assign checks shape and dtype', () => {
    const init = tensor([1, 2]);
    const a = variable(init, { name: 'w' });
    const b = variable(init, { name: 'w' });
    expect(a.name).toBe('w');
    expect(b.name).not.toBe('w');
    expect(a.value).not.toBe(init);
    init.dispose();
    near(vals(a.value), [1, 2]);
    expect(a.shape).toEqual([2]);
    expect(a.dtype).toBe('float32');
    expect(a.trainable).toBe(true);
    const before = snapshot();
    const t = tensor([5, 6]);
    a.assign(t);
    t.dispose();
    near(vals(a.value), [5, 6]);
    expect(snapshot()).toEqual(before);
    expect(() => a.assign(tensor([1, 2, 3]))).toThrow(/shape/);
    expect(() => a.assign(tensor([1, 2], [2], 'int32'))).toThrow(/int32/);
    const v = variable(tensor([1.5, 2.5]), { dtype: 'int32', trainable: false });
    expect(v.dtype).toBe('int32');
    expect(v.trainable).toBe(false);
    for (const x of [a, b, v]) x.dispose();
    expect(liveVariables()).not.toContain(a);
  });

  it('variableGrads differentiates with respect to every live trainable variable by default', () => {
    const w = variable(tensor([[1, 2], [3, 4]]), { name: 'kernel' });
    const bias = variable(tensor([0.5, -0.5]), { name: 'bias' });
    const frozen = variable(tensor([2, 2]), { trainable: false });
    const unused = variable(tensor([7]));
    const x = tensor([[1, 1]]);
    expectNoLeak(
      () => variableGrads(() => c.sum(c.mul(c.add(c.matmul(x, w.value), bias.value), frozen.value))),
      ({ value, grads: gs }) => {
        near(vals(value), [2 * (4.5 + 5.5)]);
        expect([...gs.keys()].sort((p, q) => p.id - q.id)).toEqual([w, bias]);
        near(vals(gs.get(w)!), [2, 2, 2, 2]);
        near(vals(gs.get(bias)!), [2, 2]);
        return [value, ...gs.values()];
      },
    );
    // An explicit list, including a frozen one.
    expectNoLeak(
      () => variableGrads(() => c.sum(c.mul(bias.value, frozen.value)), [frozen]),
      ({ value, grads: gs }) => {
        expect([...gs.keys()]).toEqual([frozen]);
        near(vals(gs.get(frozen)!), [0.5, -0.5]);
        return [value, ...gs.values()];
      },
    );
    for (const v of [w, bias, frozen, unused]) v.dispose();
    x.dispose();
  });
});

describe('higher-order gradients', () => {
  it('third derivative of x^3 is 6', () => {
    const x = tensor([1, 2, -3]);
    expectNoLeak(
      () => grad(grad(grad((t) => c.mul(t, c.mul(t, t)))))(x),
      (g) => {
        near(vals(g), [6, 6, 6]);
        return [g];
      },
    );
    x.dispose();
  });

  const second: GradCase[] = [
    { name: 'd/dx tanh', ops: ['tanh'], fn: (x) => grad(c.tanh)(x), inputs: [{ shape: [2, 3] }], ref: (x) => map(x, (v) => 1 - Math.tanh(v) ** 2) },
    { name: 'd/dx exp', ops: ['exp'], fn: (x) => grad(c.exp)(x), inputs: [{ shape: [2, 3] }], ref: (x) => map(x, Math.exp) },
    {
      name: 'd/da of a*a*b (b broadcast)',
      ops: ['mul'],
      fn: (a, b) => grads((p, q) => c.mul(c.mul(p, p), q))([a, b])[0]!,
      inputs: [{ shape: [2, 3] }, { shape: [3] }],
      ref: (a, b) => zip(a, b, (p, q) => 2 * p * q),
    },
    {
      name: 'd/dA of sum((A @ B)^2)',
      ops: ['matmul'],
      fn: (a, b) => grads((p, q) => c.sum(c.square(c.matmul(p, q))))([a, b])[0]!,
      inputs: [{ shape: [2, 3] }, { shape: [3, 2] }],
      ref: (a, b) => {
        const ab = hmatmul(a, b);
        return map(hmatmul(ab, b, false, true), (v) => 2 * v);
      },
    },
    {
      name: 'd/dB of sum((A @ B)^2), batched with broadcasting',
      ops: ['matmul'],
      fn: (a, b) => grads((p, q) => c.sum(c.square(c.matmul(p, q))))([a, b])[1]!,
      inputs: [{ shape: [2, 2, 3] }, { shape: [3, 2] }],
      ref: (a, b) => {
        const ab = hmatmul(a, b);
        const g = hmatmul(a, ab, true, false); // [2, 3, 2]
        const out = new Float64Array(6);
        for (let i = 0; i < 12; i++) out[i % 6]! += 2 * g.data[i]!;
        return { shape: [3, 2], data: out };
      },
    },
  ];
  second.forEach((gc, k) => {
    it(`grad of grad: ${gc.name} (fused on and off)`, () => {
      checkGradCase(gc, rng(77 + k), true);
      checkGradCase(gc, rng(77 + k), false);
    });
  });

  it('grad of grad of softmax, logSoftmax, sigmoid and layerNorm agree with finite differences of the first gradient', () => {
    const cases: GradCase[] = [
      { name: 'softmax', ops: ['softmax'], fn: (x) => vjp((t) => c.softmax(t), [x], c.tensor([[0.3, -1, 2], [1, 0.5, -0.2]])).grads[0]!, inputs: [{ shape: [2, 3] }], h: 1e-2, rtol: 2e-2, atol: 2e-3 },
      { name: 'logSoftmax', ops: ['logSoftmax'], fn: (x) => grad((t) => c.mul(c.logSoftmax(t), c.tensor([1, 2, 3])))(x), inputs: [{ shape: [2, 3] }], h: 1e-2, rtol: 2e-2, atol: 2e-3 },
      { name: 'sigmoid', ops: ['sigmoid'], fn: (x) => grad(c.sigmoid)(x), inputs: [{ shape: [4] }], h: 1e-2, rtol: 2e-2, atol: 2e-3 },
    ];
    for (const [k, gc] of cases.entries()) checkGradCase(gc, rng(500 + k));
  });
});
