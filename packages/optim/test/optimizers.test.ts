/**
 * Every optimizer (and option) against a float64 host implementation of its Keras update over
 * several steps, clipping, schedules, reduce-on-plateau, minimize, resumable state, Keras
 * names and defaults, and memory (flat per step, back to the start after dispose).
 */
import * as c from '@tessera/core';
import { variable, type Variable } from '@tessera/autograd';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adadelta,
  Adagrad,
  Adam,
  Adamax,
  AdamW,
  cosineDecay,
  exponentialDecay,
  getOptimizer,
  listOptimizers,
  Nadam,
  type Optimizer,
  piecewiseConstant,
  ReduceLROnPlateau,
  RMSprop,
  SGD,
} from '../src/index.js';
import { rng, setupBackend, snapshot } from '../../../scripts/test-helpers.mjs';

beforeAll(setupBackend);

/** A host implementation of one optimizer: returns an updater of one parameter array. */
type HostOpt = () => (p: number[], g: number[], t: number) => void;

interface Case {
  name: string;
  make: () => Optimizer;
  host: HostOpt;
  /** Host-side gradient transform applied to all gradients of a step (clipping). */
  clip?: (gs: number[][]) => number[][];
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

function adamHost(lr: number, b1: number, b2: number, eps: number, wd = 0, amsgrad = false): HostOpt {
  return () => {
    let m: number[] | undefined;
    let v: number[] | undefined;
    let vh: number[] | undefined;
    return (p, g, t) => {
      m ??= zeros(p.length);
      v ??= zeros(p.length);
      vh ??= zeros(p.length);
      const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      for (let i = 0; i < p.length; i++) {
        p[i] = p[i]! - lr * wd * p[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        vh[i] = Math.max(vh[i]!, v[i]!);
        p[i] = p[i]! - (alpha * m[i]!) / (Math.sqrt(amsgrad ? vh[i]! : v[i]!) + eps);
      }
    };
  };
}

function sgdHost(lr: number, mom = 0, nesterov = false, wd = 0): HostOpt {
  return () => {
    let v: number[] | undefined;
    return (p, g) => {
      v ??= zeros(p.length);
      for (let i = 0; i < p.length; i++) {
        p[i] = p[i]! - lr * wd * p[i]!;
        if (mom === 0 && !nesterov) {
          p[i] = p[i]! - lr * g[i]!;
          continue;
        }
        v[i] = mom * v[i]! - lr * g[i]!;
        p[i] = nesterov ? p[i]! + mom * v[i]! - lr * g[i]! : p[i]! + v[i]!;
      }
    };
  };
}

function rmspropHost(lr: number, rho: number, eps: number, mom = 0, centered = false): HostOpt {
  return () => {
    let v: number[] | undefined;
    let a: number[] | undefined;
    let mv: number[] | undefined;
    return (p, g) => {
      v ??= zeros(p.length);
      a ??= zeros(p.length);
      mv ??= zeros(p.length);
      for (let i = 0; i < p.length; i++) {
        v[i] = rho * v[i]! + (1 - rho) * g[i]! ** 2;
        let d = v[i]!;
        if (centered) {
          a[i] = rho * a[i]! + (1 - rho) * g[i]!;
          d -= a[i]! ** 2;
        }
        const inc = (lr * g[i]!) / Math.sqrt(d + eps);
        if (mom > 0) {
          mv[i] = mom * mv[i]! + inc;
          p[i] = p[i]! - mv[i]!;
        } else p[i] = p[i]! - inc;
      }
    };
  };
}

function adagradHost(lr: number, init: number, eps: number): HostOpt {
  return () => {
    let acc: number[] | undefined;
    return (p, g) => {
      acc ??= new Array<number>(p.length).fill(init);
      for (let i = 0; i < p.length; i++) {
        acc[i] = acc[i]! + g[i]! ** 2;
        p[i] = p[i]! - (lr * g[i]!) / Math.sqrt(acc[i]! + eps);
      }
    };
  };
}

function adadeltaHost(lr: number, rho: number, eps: number): HostOpt {
  return () => {
    let a: number[] | undefined;
    let b: number[] | undefined;
    return (p, g) => {
      a ??= zeros(p.length);
      b ??= zeros(p.length);
      for (let i = 0; i < p.length; i++) {
        a[i] = rho * a[i]! + (1 - rho) * g[i]! ** 2;
        const d = (-Math.sqrt(b[i]! + eps) / Math.sqrt(a[i]! + eps)) * g[i]!;
        b[i] = rho * b[i]! + (1 - rho) * d * d;
        p[i] = p[i]! + lr * d;
      }
    };
  };
}

function adamaxHost(lr: number, b1: number, b2: number, eps: number): HostOpt {
  return () => {
    let m: number[] | undefined;
    let u: number[] | undefined;
    return (p, g, t) => {
      m ??= zeros(p.length);
      u ??= zeros(p.length);
      for (let i = 0; i < p.length; i++) {
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        u[i] = Math.max(b2 * u[i]!, Math.abs(g[i]!));
        p[i] = p[i]! - (lr * m[i]!) / ((1 - b1 ** t) * (u[i]! + eps));
      }
    };
  };
}

/** Keras 3 Nadam, transcribed: one momentum-schedule product shared by all variables. */
function nadamHost(lr: number, b1: number, b2: number, eps: number): () => { step: (ps: number[][], gs: number[][], t: number) => void } {
  return () => {
    let uProduct = 1;
    const ms: number[][] = [];
    const vs: number[][] = [];
    return {
      step(ps, gs, t) {
        const ut = b1 * (1 - 0.5 * 0.96 ** t);
        const ut1 = b1 * (1 - 0.5 * 0.96 ** (t + 1));
        const upt = uProduct * ut;
        const upt1 = upt * ut1;
        ps.forEach((p, k) => {
          const g = gs[k]!;
          ms[k] ??= zeros(p.length);
          vs[k] ??= zeros(p.length);
          const m = ms[k]!;
          const v = vs[k]!;
          for (let i = 0; i < p.length; i++) {
            m[i] = m[i]! + (g[i]! - m[i]!) * (1 - b1);
            v[i] = v[i]! + (g[i]! ** 2 - v[i]!) * (1 - b2);
            const mh = (ut1 * m[i]!) / (1 - upt1) + ((1 - ut) * g[i]!) / (1 - upt);
            const vh = v[i]! / (1 - b2 ** t);
            p[i] = p[i]! - (lr * mh) / (Math.sqrt(vh) + eps);
          }
        });
        uProduct = upt;
      },
    };
  };
}

const norm2 = (g: number[]): number => Math.sqrt(g.reduce((a, b) => a + b * b, 0));

const CASES: Case[] = [
  { name: 'SGD', make: () => new SGD({ learningRate: 0.1 }), host: sgdHost(0.1) },
  { name: 'SGD momentum', make: () => new SGD({ learningRate: 0.1, momentum: 0.9 }), host: sgdHost(0.1, 0.9) },
  { name: 'SGD Nesterov', make: () => new SGD({ learningRate: 0.1, momentum: 0.8, nesterov: true }), host: sgdHost(0.1, 0.8, true) },
  { name: 'SGD with weight decay', make: () => new SGD({ learningRate: 0.1, weightDecay: 0.05 }), host: sgdHost(0.1, 0, false, 0.05) },
  { name: 'Adam', make: () => new Adam({ learningRate: 0.01 }), host: adamHost(0.01, 0.9, 0.999, 1e-7) },
  { name: 'Adam betas and epsilon', make: () => new Adam({ learningRate: 0.02, beta1: 0.8, beta2: 0.99, epsilon: 1e-3 }), host: adamHost(0.02, 0.8, 0.99, 1e-3) },
  { name: 'Adam amsgrad', make: () => new Adam({ learningRate: 0.01, amsgrad: true }), host: adamHost(0.01, 0.9, 0.999, 1e-7, 0, true) },
  { name: 'AdamW', make: () => new AdamW({ learningRate: 0.01, weightDecay: 0.1 }), host: adamHost(0.01, 0.9, 0.999, 1e-7, 0.1) },
  { name: 'AdamW default decay 0.004', make: () => new AdamW({ learningRate: 0.01 }), host: adamHost(0.01, 0.9, 0.999, 1e-7, 0.004) },
  { name: 'RMSprop', make: () => new RMSprop({ learningRate: 0.01 }), host: rmspropHost(0.01, 0.9, 1e-7) },
  { name: 'RMSprop momentum', make: () => new RMSprop({ learningRate: 0.01, momentum: 0.5 }), host: rmspropHost(0.01, 0.9, 1e-7, 0.5) },
  { name: 'RMSprop centered', make: () => new RMSprop({ learningRate: 0.01, centered: true, rho: 0.8 }), host: rmspropHost(0.01, 0.8, 1e-7, 0, true) },
  { name: 'RMSprop centered with momentum', make: () => new RMSprop({ learningRate: 0.01, centered: true, momentum: 0.9 }), host: rmspropHost(0.01, 0.9, 1e-7, 0.9, true) },
  { name: 'Adagrad', make: () => new Adagrad({ learningRate: 0.1 }), host: adagradHost(0.1, 0.1, 1e-7) },
  { name: 'Adagrad initial accumulator 0.5', make: () => new Adagrad({ learningRate: 0.1, initialAccumulatorValue: 0.5 }), host: adagradHost(0.1, 0.5, 1e-7) },
  { name: 'Adadelta', make: () => new Adadelta({ learningRate: 1 }), host: adadeltaHost(1, 0.95, 1e-7) },
  { name: 'Adamax', make: () => new Adamax({ learningRate: 0.01 }), host: adamaxHost(0.01, 0.9, 0.999, 1e-7) },
  {
    name: 'Adam with clipNorm (per gradient)',
    make: () => new Adam({ learningRate: 0.01, clipNorm: 0.5 }),
    host: adamHost(0.01, 0.9, 0.999, 1e-7),
    clip: (gs) => gs.map((g) => g.map((v) => (v * 0.5) / Math.max(norm2(g), 0.5))),
  },
  {
    name: 'SGD with clipValue',
    make: () => new SGD({ learningRate: 0.1, clipValue: 0.3 }),
    host: sgdHost(0.1),
    clip: (gs) => gs.map((g) => g.map((v) => Math.min(Math.max(v, -0.3), 0.3))),
  },
  {
    name: 'RMSprop with globalClipNorm',
    make: () => new RMSprop({ learningRate: 0.01, globalClipNorm: 1 }),
    host: rmspropHost(0.01, 0.9, 1e-7),
    clip: (gs) => {
      const n = Math.sqrt(gs.reduce((a, g) => a + norm2(g) ** 2, 0));
      return gs.map((g) => g.map((v) => v / Math.max(n, 1)));
    },
  },
];

const SHAPES = [[3], [2, 3]];
const STEPS = 5;

function runAgainstHost(make: () => Optimizer, step: (ps: number[][], gs: number[][], t: number) => void, seed: number): void {
  const r = rng(seed);
  const init = SHAPES.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => Math.fround(r() * 2 - 1)));
  const opt = make();
  const vars = SHAPES.map((s, i) => {
    const t = c.tensor(init[i]!, s);
    const v = variable(t);
    t.dispose();
    return v;
  });
  const host = init.map((p) => p.slice());
  const start = snapshot();
  let flat: ReturnType<typeof snapshot> | undefined;
  for (let t = 1; t <= STEPS; t++) {
    // gradients of varied size, some steps large (for the clipping cases)
    const gs = SHAPES.map((_, i) => init[i]!.map(() => Math.fround((r() * 2 - 1) * (t % 2 ? 2 : 0.2))));
    const grads = new Map(vars.map((v, i) => [v, c.tensor(gs[i]!, SHAPES[i]!)] as const));
    opt.applyGradients(grads);
    for (const g of grads.values()) g.dispose();
    step(host, gs, t);
    vars.forEach((v, i) => {
      const got = Array.from(v.value.dataSync());
      got.forEach((x, j) => expect(Math.abs(x - host[i]![j]!), `step ${t} var ${i}[${j}]: ${x} vs ${host[i]![j]}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(host[i]![j]!)));
    });
    if (flat === undefined) flat = snapshot();
    else expect(snapshot(), `memory grows at step ${t}`).toEqual(flat);
  }
  expect(opt.iterations).toBe(STEPS);
  opt.dispose();
  expect(snapshot()).toEqual(start);
  for (const v of vars) v.dispose();
}

describe('each optimizer against a float64 host implementation (5 steps, two variables)', () => {
  CASES.forEach((oc, k) => {
    for (const fused of [true, false]) {
      it(`${oc.name} (fused kernels ${fused ? 'on' : 'off'})`, () => {
        c.withFusedKernels(fused, () => {
          const hosts = SHAPES.map(() => oc.host());
          runAgainstHost(oc.make, (ps, gs, t) => {
            const g2 = oc.clip ? oc.clip(gs) : gs;
            ps.forEach((p, i) => hosts[i]!(p, g2[i]!, t));
          }, 10 + k);
        });
      });
    }
  });
  it('Nadam', () => {
    const h = nadamHost(0.01, 0.9, 0.999, 1e-7)();
    runAgainstHost(() => new Nadam({ learningRate: 0.01 }), (ps, gs, t) => h.step(ps, gs, t), 99);
  });
});

describe('minimize, iterations, learning rate', () => {
  it('minimize computes the gradients, applies them and returns the loss; only trainable variables move', () => {
    const w = variable(c.tensor([1, -2]));
    const frozen = variable(c.tensor([3]), { trainable: false });
    const opt = new SGD({ learningRate: 0.5 });
    const start = snapshot();
    const loss = opt.minimize(() => c.sum(c.square(c.mul(w.value, frozen.value))));
    expect(loss.dataSync()[0]).toBeCloseTo(45, 4);
    loss.dispose();
    // d/dw sum((3w)^2) = 18 w
    expect(Array.from(w.value.dataSync())).toEqual([1 - 0.5 * 18, -2 + 0.5 * 36]);
    expect(Array.from(frozen.value.dataSync())).toEqual([3]);
    expect(opt.iterations).toBe(1);
    expect(snapshot()).toEqual(start);
    // an explicit list
    const l2 = opt.minimize(() => c.sum(c.mul(w.value, frozen.value)), [frozen]);
    l2.dispose();
    expect(frozen.value.dataSync()[0]).toBeCloseTo(3 - 0.5 * (-8 + 16), 5);
    opt.dispose();
    w.dispose();
    frozen.dispose();
  });

  it('strided gradients (the broadcast view sum() gives) go through the fused and the op-based steps', () => {
    for (const fused of [true, false]) {
      c.withFusedKernels(fused, () => {
        for (const make of [() => new SGD({ learningRate: 0.5, momentum: 0.9 }), () => new Adam({ learningRate: 0.5 }), () => new RMSprop({ learningRate: 0.5 })]) {
          const w = variable(c.tensor([[1, 2, 3], [4, 5, 6]]));
          const opt = make();
          const loss = opt.minimize(() => c.sum(w.value));
          const got = Array.from(w.value.dataSync());
          // every element moves by the same amount, in the descent direction
          got.forEach((v, i) => expect(v - (i + 1)).toBeCloseTo(got[0]! - 1, 6));
          expect(got[0]!).toBeLessThan(1);
          c.dispose([loss]);
          opt.dispose();
          w.dispose();
        }
      });
    }
  });

  it('a gradient of the wrong shape or for a disposed variable is rejected; missing gradients are skipped', () => {
    const w = variable(c.zeros([2]));
    const opt = new Adam();
    const g = c.ones([3]);
    expect(() => opt.applyGradients(new Map([[w, g]]))).toThrow(/gradient of 'variable.*' has shape \[3\]; expected \[2\]/);
    opt.applyGradients([[w, null]]);
    expect(opt.iterations).toBe(0);
    w.dispose();
    expect(() => opt.applyGradients(new Map([[w, g]]))).toThrow(/disposed/);
    g.dispose();
    opt.dispose();
  });

  it('learningRate is settable (replacing a schedule) and schedules follow iterations', () => {
    const opt = new SGD({ learningRate: exponentialDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 }) });
    expect(opt.learningRate).toBeCloseTo(0.1);
    const w = variable(c.tensor([0]));
    const g = c.tensor([1]);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = w.value.dataSync()[0]!;
      opt.applyGradients(new Map([[w, g]]));
      seen.push(before - w.value.dataSync()[0]!);
    }
    seen.forEach((v, i) => expect(v).toBeCloseTo(0.1 * 0.5 ** (i / 2), 6));
    opt.learningRate = 0.003;
    expect(opt.schedule).toBeUndefined();
    expect(opt.learningRate).toBe(0.003);
    expect(opt.getConfig()).toMatchObject({ name: 'sgd', learningRate: 0.003, momentum: 0, nesterov: false });
    c.dispose([g]);
    w.dispose();
    opt.dispose();
  });
});

describe('schedules and reduce-on-plateau', () => {
  it('exponentialDecay, staircase', () => {
    const s = exponentialDecay({ initialLearningRate: 1, decaySteps: 10, decayRate: 0.5, staircase: true });
    expect([0, 9, 10, 25].map(s)).toEqual([1, 1, 0.5, 0.25]);
    expect(exponentialDecay({ initialLearningRate: 1, decaySteps: 10, decayRate: 0.5 })(5)).toBeCloseTo(Math.SQRT1_2);
  });

  it('piecewiseConstant follows Keras boundaries (inclusive upper bounds)', () => {
    const s = piecewiseConstant({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
    expect([0, 10, 11, 20, 21, 1000].map(s)).toEqual([1, 1, 0.5, 0.5, 0.1, 0.1]);
    expect(() => piecewiseConstant({ boundaries: [1], values: [1] })).toThrow(/one more entry/);
  });

  it('cosineDecay with and without warmup', () => {
    const s = cosineDecay({ initialLearningRate: 1, decaySteps: 100, alpha: 0.1 });
    expect(s(0)).toBeCloseTo(1);
    expect(s(50)).toBeCloseTo(0.1 + 0.9 * 0.5);
    expect(s(100)).toBeCloseTo(0.1);
    expect(s(500)).toBeCloseTo(0.1);
    const w = cosineDecay({ initialLearningRate: 0, warmupTarget: 0.01, warmupSteps: 10, decaySteps: 20 });
    expect(w(0)).toBe(0);
    expect(w(5)).toBeCloseTo(0.005);
    expect(w(10)).toBeCloseTo(0.01);
    expect(w(20)).toBeCloseTo(0.005);
    expect(w(30)).toBeCloseTo(0);
    expect(w.config).toMatchObject({ name: 'cosineDecay', warmupSteps: 10 });
  });

  it('ReduceLROnPlateau lowers the rate after `patience` updates without improvement, then cools down', () => {
    const opt = new Adam({ learningRate: 0.1 });
    const plateau = new ReduceLROnPlateau({ factor: 0.5, patience: 2, cooldown: 1, minLearningRate: 0.02 });
    const lrs: number[] = [];
    for (const loss of [1, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]) {
      plateau.update(opt, loss);
      lrs.push(opt.learningRate);
    }
    // Keras: after a reduction the cooldown update resets the wait, so the next one comes 2 later.
    expect(lrs).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02]);
    const acc = new ReduceLROnPlateau({ mode: 'max', patience: 1 });
    acc.update(opt, 0.5);
    expect(acc.update(opt, 0.4)).toBeCloseTo(0.002);
  });
});

describe('state', () => {
  for (const name of listOptimizers()) {
    it(`${name}: getState / setState resumes exactly (into a fresh optimizer and variables)`, () => {
      const make = (): Optimizer => getOptimizer(name, { learningRate: 0.05 });
      const r = rng(7);
      const gs = Array.from({ length: 6 }, () => [c.tensor([r() - 0.5, r() - 0.5]), c.tensor([[r() - 0.5]])] as const);
      const mk = (suffix: string): Variable[] => [variable(c.tensor([0.3, -0.2]), { name: `w${suffix}` }), variable(c.tensor([[1]]), { name: `b${suffix}` })];
      // uninterrupted
      const a = make();
      const va = mk('_uninterrupted');
      for (const [g1, g2] of gs) a.applyGradients(new Map([[va[0]!, g1], [va[1]!, g2]]));
      // interrupted after 3 steps, state carried over by variable name
      const b = make();
      const vb = mk('');
      for (const [g1, g2] of gs.slice(0, 3)) b.applyGradients(new Map([[vb[0]!, g1], [vb[1]!, g2]]));
      const state = b.getState();
      expect(state.numbers.iterations).toBe(3);
      const values = vb.map((v) => c.clone(v.value));
      b.dispose();
      for (const v of vb) v.dispose();
      const before = snapshot();
      const b2 = make();
      const vc = mk('');
      vc.forEach((v, i) => v.assign(values[i]!));
      // restoring with the variables list matches the slots now (and rejects unknown names)
      b2.setState(state, vc);
      c.dispose([...Object.values(state.tensors), ...values]);
      expect(b2.iterations).toBe(3);
      for (const [g1, g2] of gs.slice(3)) b2.applyGradients(new Map([[vc[0]!, g1], [vc[1]!, g2]]));
      va.forEach((v, i) => expect(Array.from(vc[i]!.value.dataSync())).toEqual(Array.from(v.value.dataSync())));
      a.dispose();
      b2.dispose();
      for (const v of [...va, ...vc]) v.dispose();
      expect(snapshot().numTensors).toBeLessThanOrEqual(before.numTensors);
      for (const [g1, g2] of gs) c.dispose([g1, g2]);
    });
  }

  it('state tensors are named <variable>/<slot>; bad names and shapes are rejected', () => {
    const w = variable(c.tensor([1, 2]), { name: 'kernel' });
    const opt = new Adam();
    const g = c.tensor([0.1, 0.2]);
    opt.applyGradients(new Map([[w, g]]));
    const s = opt.getState();
    expect(Object.keys(s.tensors).sort()).toEqual(['kernel/m', 'kernel/v']);
    expect(s.numbers).toMatchObject({ iterations: 1, learningRate: 0.001 });
    const bad = c.zeros([3]);
    expect(() => opt.setState({ tensors: { 'kernel/m': bad }, numbers: {} })).toThrow(/shape \[3\]/);
    expect(() => opt.setState({ tensors: { 'kernel/q': bad }, numbers: {} })).toThrow(/not '<variable>\/<m\|v>'/);
    const other = variable(c.zeros([2]), { name: 'other' });
    expect(() => opt.setState({ tensors: { 'ghost/m': c.zeros([2]) }, numbers: {} }, [w, other])).toThrow(/'ghost\/m' matches none of the variables/);
    other.dispose();
    c.dispose([...Object.values(s.tensors), bad, g]);
    opt.dispose();
    w.dispose();
  });
});

describe('names and defaults', () => {
  it('getOptimizer resolves Keras names with Keras defaults and snake_case options', () => {
    const defaults: Record<string, Record<string, unknown>> = {
      sgd: { learningRate: 0.01, momentum: 0, nesterov: false },
      adam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false },
      adamw: { learningRate: 0.001, weightDecay: 0.004 },
      rmsprop: { learningRate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false },
      adagrad: { learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 },
      adadelta: { learningRate: 0.001, rho: 0.95, epsilon: 1e-7 },
      adamax: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
      nadam: { learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    };
    for (const [name, cfg] of Object.entries(defaults)) {
      const o = getOptimizer(name.toUpperCase());
      expect(o.name).toBe(name);
      expect(o.getConfig()).toMatchObject(cfg);
      o.dispose();
    }
    const sgd = getOptimizer('sgd', { learning_rate: 0.1, momentum: 0.9, nesterov: true, global_clipnorm: 2 }) as SGD;
    expect(sgd.getConfig()).toMatchObject({ learningRate: 0.1, momentum: 0.9, nesterov: true, globalClipNorm: 2 });
    expect(getOptimizer(sgd)).toBe(sgd);
    expect(() => getOptimizer('adamz')).toThrow(/unknown optimizer 'adamz'/);
    expect(() => getOptimizer('adam', { rho: 0.9 })).toThrow(/unknown option 'rho'/);
    expect(() => new Adam({ learningRate: -1 })).toThrow(/learningRate/);
    expect(() => new SGD({ clipNorm: 1, globalClipNorm: 1 })).toThrow(/cannot both/);
  });
});

