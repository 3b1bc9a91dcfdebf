/**
 * The multi-tensor optimizer step (`optimizerStep`), the one in-place kernel: SGD,
 * momentum, Nesterov and Adam(W) in the Keras form `types.ts` documents.
 * @module
 */
import type { OptimizerHyper, OptimizerKind } from '@tessera/core';
import type { CoreApi, Tensor } from '../api.js';
import { uniform } from '../domains.js';
import type { HostTensor } from '../host.js';
import { input, shapeText } from '../shapes.js';
import type { Attrs, CaseDef, Domain, InputDef, OpSpec, Tag } from '../types.js';

const STATE: Record<OptimizerKind, number> = { sgd: 0, momentum: 1, nesterov: 1, adam: 2 };

/**
 * Splits a flat input list into `[params, grads, state]` for `n` parameters with `k` state
 * tensors each.
 * @example
 * splitInputs([p0, p1, g0, g1, v0, v1], 2, 1); // [[p0, p1], [g0, g1], [[v0], [v1]]]
 */
export function splitInputs<X>(xs: readonly X[], n: number, k: number): [X[], X[], X[][]] {
  const params = xs.slice(0, n);
  const grads = xs.slice(n, 2 * n);
  const state = params.map((_, i) => xs.slice(2 * n + i * k, 2 * n + (i + 1) * k));
  return [params, grads, state];
}

/** The outputs of a step: what core returned, or the updated inputs when it works in place. */
function outputsOf(r: unknown, params: Tensor[], state: Tensor[][]): Tensor[] {
  if (Array.isArray(r)) return r as Tensor[];
  if (r && typeof r === 'object' && 'params' in r) {
    const o = r as { params: Tensor[]; state?: Tensor[][] };
    return [...o.params, ...(o.state ?? state).flat()];
  }
  return [...params, ...state.flat()];
}

function run(api: CoreApi, xs: Tensor[], a: Attrs): Tensor[] {
  const kind = a.kind as OptimizerKind;
  const [params, grads, state] = splitInputs(xs, a.n as number, STATE[kind]);
  return outputsOf(api.optimizerStep(kind, params, grads, state, a.hyper as OptimizerHyper), params, state);
}

/** Reference update of one parameter; returns the new parameter and state values. */
function stepOne(kind: OptimizerKind, p: number, g: number, s: number[], h: OptimizerHyper): [number, number[]] {
  const lr = h.lr;
  switch (kind) {
    case 'sgd':
      return [p - lr * g, []];
    case 'momentum': {
      const v = (h.momentum ?? 0.9) * s[0] - lr * g;
      return [p + v, [v]];
    }
    case 'nesterov': {
      const m = h.momentum ?? 0.9;
      const v = m * s[0] - lr * g;
      return [p + m * v - lr * g, [v]];
    }
    case 'adam': {
      const b1 = h.beta1 ?? 0.9;
      const b2 = h.beta2 ?? 0.999;
      const eps = h.epsilon ?? 1e-7;
      const t = h.step;
      let q = p;
      if ((h.weightDecay ?? 0) > 0) q -= lr * (h.weightDecay ?? 0) * q;
      const m = b1 * s[0] + (1 - b1) * g;
      const v = b2 * s[1] + (1 - b2) * g * g;
      const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
      return [q - (alpha * m) / (Math.sqrt(v) + eps), [m, v]];
    }
  }
}

function ref(xs: HostTensor[], a: Attrs): HostTensor[] {
  const kind = a.kind as OptimizerKind;
  const k = STATE[kind];
  const [params, grads, state] = splitInputs(xs, a.n as number, k);
  const newP = params.map((p) => ({ ...p, data: new Float64Array(p.data.length) }));
  const newS = state.map((ss) => ss.map((s) => ({ ...s, data: new Float64Array(s.data.length) })));
  params.forEach((p, i) => {
    for (let e = 0; e < p.data.length; e++) {
      const [np, ns] = stepOne(kind, p.data[e], grads[i].data[e], state[i].map((s) => s.data[e]), a.hyper as OptimizerHyper);
      newP[i].data[e] = np;
      ns.forEach((v, j) => (newS[i][j].data[e] = v));
    }
  });
  return [...newP, ...newS.flat()];
}

const HYPER: Record<OptimizerKind, OptimizerHyper> = {
  sgd: { lr: 0.1, step: 1 },
  momentum: { lr: 0.05, step: 1, momentum: 0.9 },
  nesterov: { lr: 0.05, step: 1, momentum: 0.9 },
  adam: { lr: 0.01, step: 3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
};

const SHAPE_SETS: readonly [string, number[][], Tag[]][] = [
  ['two-params', [[3, 4], [5]], []],
  ['scalar', [[]], ['scalar']],
  ['with-empty', [[0, 3], [2]], ['size0']],
  ['odd', [[17, 33]], ['odd']],
  ['large', [[100_000]], ['large']],
];

function stateDomain(kind: OptimizerKind, j: number): Domain {
  return kind === 'adam' && j === 1 ? uniform(0, 0.5) : uniform(-1, 1);
}

function cases(): CaseDef[] {
  const out: CaseDef[] = [];
  const kinds: OptimizerKind[] = ['sgd', 'momentum', 'nesterov', 'adam'];
  for (const kind of kinds) {
    const variants: [string, OptimizerHyper][] = [[kind, HYPER[kind]]];
    if (kind === 'adam') variants.push(['adamw', { ...HYPER.adam, weightDecay: 0.01, step: 1 }]);
    for (const [name, hyper] of variants) {
      for (const [label, shapes, tags] of SHAPE_SETS) {
        const k = STATE[kind];
        const inputs: InputDef[] = [
          ...shapes.map((s) => input(s, 'float32')),
          ...shapes.map((s) => input(s, 'float32')),
          ...shapes.flatMap((s) => Array.from({ length: k }, (_, j) => input(s, 'float32', { domain: stateDomain(kind, j) }))),
        ];
        out.push({
          label: `${name}-${label}-${shapes.map(shapeText).join('+')}`,
          inputs,
          attrs: { kind, n: shapes.length, hyper },
          tags,
          kernels: [`optimizerStep:${kind}`],
        });
      }
    }
  }
  return out;
}

/** The fused optimizer step. */
export const optimizerSpecs: readonly OpSpec[] = [
  {
    name: 'optimizerStep',
    family: 'optimizer',
    kind: 'fused',
    op: 'optimizerStep',
    kernels: ['optimizerStep'],
    dtypes: ['float32'],
    run,
    ref64: ref,
    cases,
    domain: () => uniform(-1, 1),
    tol: () => ({ rtol: 1e-4, atol: 1e-6 }),
    // Parameters and state may be updated in place; gradients must not change.
    inPlace: (c) => {
      const n = c.attrs?.n as number;
      return c.inputs.map((_, i) => i).filter((i) => i < n || i >= 2 * n);
    },
    grad: 'none',
    errors: [
      {
        label: 'grad-shape',
        inputs: [{ shape: [3], dtype: 'float32' }, { shape: [4], dtype: 'float32' }],
        attrs: { kind: 'sgd', n: 1, hyper: HYPER.sgd },
        error: 'ShapeError',
      },
    ],
  },
];
