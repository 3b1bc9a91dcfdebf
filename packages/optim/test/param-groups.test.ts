/**
 * Parameter groups (differential learning rates): each group's variables move exactly as
 * they would under an optimizer of the group's rate alone, global clipping and Nadam's
 * per-step state still see the step as one, and bad groups are rejected.
 */
import * as c from '@tessera/core';
import { variable, variableGrads, type Variable } from '@tessera/autograd';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, exponentialDecay, Nadam, type Optimizer, type ParamGroup, SGD } from '../src/index.js';
import { setupBackend, snapshot } from '../../../scripts/test-helpers.mjs';

beforeAll(setupBackend);

const values = (v: Variable): number[] => Array.from(v.value.dataSync());
/** A variable from a host array (variable() copies its argument, so the tensor is freed). */
function v(xs: number[]): Variable {
  const t = c.tensor(xs);
  const out = variable(t);
  t.dispose();
  return out;
}

/** Runs `steps` steps of a fixed quadratic loss on fresh copies of [a, b]. */
function train(make: (a: Variable, b: Variable) => Optimizer[], steps = 5): number[][] {
  const a0 = c.tensor([1, -2, 0.5]);
  const b0 = c.tensor([[0.3, -0.7]]);
  const a = variable(a0); // variable() copies its argument
  const b = variable(b0);
  c.dispose([a0, b0]);
  const opts = make(a, b);
  for (let s = 0; s < steps; s++) {
    // Different gradient scales per variable so a shared Adam/Nadam state would show.
    const loss = () => c.add(c.sum(c.square(c.sub(a.value, 3))), c.mul(c.sum(c.square(b.value)), 10));
    const { value, grads } = variableGrads(loss, [a, b]);
    if (opts.length === 1) opts[0]!.applyGradients(grads);
    else {
      opts[0]!.applyGradients([[a, grads.get(a)!]]);
      opts[1]!.applyGradients([[b, grads.get(b)!]]);
    }
    c.dispose([value, ...grads.values()]);
  }
  const out = [values(a), values(b)];
  for (const o of opts) o.dispose();
  a.dispose();
  b.dispose();
  return out;
}


describe('paramGroups', () => {
  it('SGD: each group uses its own rate (exact values)', () => {
    const start = snapshot();
    const [a, b] = train((_a, b) => [new SGD({ learningRate: 0.1, paramGroups: [{ params: [b], learningRate: 0.01 }] })], 1);
    // a: 1 - 0.1 * 2(1-3) = 1.4; b: 0.3 - 0.01 * 20 * 0.3 = 0.24
    expect(a![0]).toBeCloseTo(1.4, 6);
    expect(b![0]).toBeCloseTo(0.24, 6);
    expect(snapshot()).toEqual(start);
  });

  for (const [name, make] of [
    ['Adam', (lr: number, groups?: ParamGroup[]) => new Adam({ learningRate: lr, paramGroups: groups })],
    ['Nadam', (lr: number, groups?: ParamGroup[]) => new Nadam({ learningRate: lr, paramGroups: groups })],
  ] as const) {
    it(`${name}: one optimizer with a group equals two optimizers, one per rate`, () => {
      const start = snapshot();
      const grouped = train((_a, b) => [make(0.05, [{ params: [b], learningRateScale: 0.1 }])]);
      const separate = train(() => [make(0.05), make(0.005)]);
      for (let i = 0; i < 2; i++) {
        grouped[i]!.forEach((x, j) => expect(x).toBeCloseTo(separate[i]![j]!, 6));
      }
      // and differs from one rate for all
      const single = train(() => [make(0.05)]);
      expect(single[1]![0]).not.toBeCloseTo(grouped[1]![0]!, 4);
      expect(snapshot()).toEqual(start);
    });
  }

  it('learningRateScale follows the optimizer rate; a group schedule follows the step', () => {
    const start = snapshot();
    const a = v([1]);
    const b = v([1]);
    const opt = new SGD({
      learningRate: 0.1,
      paramGroups: [
        { params: [a], learningRateScale: 0.5 },
        { params: [b], learningRate: exponentialDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 0.5 }) },
      ],
    });
    expect(opt.learningRateOf(a)).toBeCloseTo(0.05, 8);
    expect(opt.learningRateOf(b)).toBe(1);
    opt.learningRate = 0.02;
    expect(opt.learningRateOf(a)).toBeCloseTo(0.01, 8);
    const g = c.tensor([1]);
    opt.applyGradients([[a, g], [b, g]]);
    expect(opt.learningRateOf(b)).toBeCloseTo(0.5, 8);
    expect(values(a)[0]).toBeCloseTo(0.99, 6);
    expect(values(b)[0]).toBeCloseTo(0, 6);
    expect(opt.paramGroups).toHaveLength(2);
    g.dispose();
    a.dispose();
    b.dispose();
    opt.dispose();
    expect(snapshot()).toEqual(start);
  });

  it('global clipping sees every gradient of the step across groups', () => {
    const start = snapshot();
    const a = v([0]);
    const b = v([0]);
    const opt = new SGD({ learningRate: 1, globalClipNorm: 5, paramGroups: [{ params: [b], learningRate: 2 }] });
    const ga = c.tensor([6]);
    const gb = c.tensor([8]); // global norm 10 -> scaled by 0.5
    opt.applyGradients([[a, ga], [b, gb]]);
    expect(values(a)[0]).toBeCloseTo(-3, 6);
    expect(values(b)[0]).toBeCloseTo(-8, 6);
    c.dispose([ga, gb]);
    a.dispose();
    b.dispose();
    opt.dispose();
    expect(snapshot()).toEqual(start);
  });

  it('rejects malformed groups with an ArgumentError naming the group', () => {
    const start = snapshot();
    const a = v([0]);
    expect(() => new Adam({ paramGroups: [{ params: [a] }] })).toThrow(/paramGroups\[0\] needs exactly one of learningRate and learningRateScale/);
    expect(() => new Adam({ paramGroups: [{ params: [a], learningRate: 1, learningRateScale: 2 }] })).toThrow(c.ArgumentError);
    expect(() => new Adam({ paramGroups: [{ params: [a], learningRate: 1 }, { params: [a], learningRate: 2 }] })).toThrow(/in more than one of paramGroups \(again in paramGroups\[1\]\)/);
    expect(() => new Adam({ paramGroups: [{ params: [a], learningRate: -1 }] })).toThrow(/paramGroups\[0\]\.learningRate must be a finite number >= 0/);
    expect(() => new Adam({ paramGroups: [{ params: [{} as Variable], learningRate: 1 }] })).toThrow(/not a Variable/);
    expect(() => new Adam({ paramGroups: {} as never })).toThrow(/paramGroups must be an array/);
    a.dispose();
    expect(snapshot()).toEqual(start);
  });
});
