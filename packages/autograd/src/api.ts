/**
 * The public gradient functions: grad, grads, valueAndGrad, vjp, variableGrads, plus
 * stopGradient, noGrad and customGrad.
 * @module
 */
import {
  alias,
  ArgumentError,
  clone,
  fmtShape,
  onesLike,
  shapesEqual,
  ShapeError,
  Tensor,
  tidy,
  zerosLike,
} from '@tessera/core';
import { activeTapes, pausedTapes, popTape, pushTape, saveHandle, Tape } from './tape.js';
import { liveVariables, type Variable } from './variable.js';

/** What {@link vjp} and {@link valueAndGrad} return. @example const { value, grads: [dx] } = valueAndGrad(f)(x) */
export interface ValueAndGrads {
  /** The function's output (yours to dispose). */
  value: Tensor;
  /** One gradient per input, each with the input's shape (yours to dispose). */
  grads: Tensor[];
}

/** What {@link variableGrads} returns. @example const { value, grads } = variableGrads(() => loss()); grads.get(w) */
export interface VariableGrads {
  /** The function's output (yours to dispose). */
  value: Tensor;
  /** The gradient of each variable the output depends on (yours to dispose). */
  grads: Map<Variable, Tensor>;
}

function checkTensor(x: unknown, op: string, what: string): Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(op, `${what} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`);
  }
  x.assertLive(op);
  return x;
}

/**
 * The core of every gradient function: runs `f` on a fresh tape watching `xs`, then the
 * backward pass from its output with upstream `dy` (ones when omitted). Everything runs in one
 * tidy scope, so whatever `f` and the backward pass create is freed unless returned: the
 * gradients, and the output when `keepValue` (an output `f` did not create — an input, a
 * tensor from outside — is never disposed).
 */
function run(
  op: string,
  f: () => unknown,
  xs: readonly Tensor[],
  dy: Tensor | undefined,
  keepValue: boolean,
): { value: Tensor | undefined; grads: (Tensor | undefined)[] } {
  const tape = new Tape();
  try {
    return tidy(() => {
      const slots = xs.map((x) => tape.watch(x));
      pushTape(tape);
      let y: unknown;
      try {
        y = f();
      } finally {
        popTape(tape);
      }
      if (!(y instanceof Tensor)) {
        throw new ArgumentError(op, `f must return a Tensor, got ${y === null ? 'null' : Array.isArray(y) ? 'an array' : typeof y}`);
      }
      let seed: Tensor;
      if (dy !== undefined) {
        checkTensor(dy, op, 'dy');
        if (!shapesEqual(dy.shape, y.shape)) {
          throw new ShapeError(op, `dy has shape ${fmtShape(dy.shape)} but f's output has shape ${fmtShape(y.shape)}`);
        }
        seed = dy;
      } else seed = onesLike(y);
      const grads = tape.backward(y, seed, slots);
      // Each returned gradient must be a tensor of its own: the caller's dy is copied, and so is
      // a gradient that reaches two inputs (the same tensor passed twice, or both sides of add).
      const handed = new Set<Tensor>();
      const out = grads.map((g) => {
        if (g === undefined) return undefined;
        if (handed.has(g) || g === dy) return clone(g);
        handed.add(g);
        return g;
      });
      return { value: keepValue ? y : undefined, grads: out };
    });
  } finally {
    tape.dispose();
  }
}

function zerosFor(x: Tensor): Tensor {
  return zerosLike(x);
}

/**
 * The gradient function of `f` (one tensor in, one tensor out): `grad(f)(x, dy?)` is the
 * gradient of `sum(f(x) * dy)` with respect to `x` (`dy` defaults to ones, i.e. the gradient
 * of `sum(f(x))`). Nest it for higher derivatives.
 * @example
 * const df = grad((x) => mul(x, x));
 * df(tensor([3])); // [6]
 * grad(grad((x) => mul(x, mul(x, x))))(tensor([2])); // [12]
 */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  if (typeof f !== 'function') throw new ArgumentError('grad', `f must be a function, got ${typeof f}`);
  return (x: Tensor, dy?: Tensor): Tensor => {
    checkTensor(x, 'grad', 'x');
    const { grads } = run('grad', () => f(x), [x], dy, false);
    return grads[0] ?? zerosFor(x);
  };
}

/**
 * The gradient function of `f` of several tensors: `grads(f)([a, b], dy?)` returns the
 * gradient with respect to each argument (zeros for an argument the output does not depend
 * on, and for int32/bool arguments).
 * @example
 * const [da, db] = grads((a, b) => mul(a, b))([tensor([2]), tensor([5])]); // [5], [2]
 */
export function grads(f: (...xs: Tensor[]) => Tensor): (xs: readonly Tensor[], dy?: Tensor) => Tensor[] {
  if (typeof f !== 'function') throw new ArgumentError('grads', `f must be a function, got ${typeof f}`);
  return (xs: readonly Tensor[], dy?: Tensor): Tensor[] => {
    if (!Array.isArray(xs)) throw new ArgumentError('grads', 'xs must be an array of tensors');
    xs.forEach((x, i) => checkTensor(x, 'grads', `xs[${i}]`));
    const { grads: gs } = run('grads', () => f(...xs), xs, dy, false);
    return gs.map((g, i) => g ?? zerosFor(xs[i]!));
  };
}

/**
 * Like {@link grads}, but also returns `f`'s output: `valueAndGrad(f)(...xs)` →
 * `{ value, grads }` (the gradient of `sum(value)` with respect to each argument).
 * @example
 * const { value, grads: [dx] } = valueAndGrad((x) => sum(square(x)))(tensor([1, 2]));
 * // value 5, dx [2, 4]
 */
export function valueAndGrad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => ValueAndGrads {
  if (typeof f !== 'function') throw new ArgumentError('valueAndGrad', `f must be a function, got ${typeof f}`);
  return (...xs: Tensor[]): ValueAndGrads => vjp(f, xs);
}

/**
 * The vector-Jacobian product: `f(...xs)` and the gradient of `sum(f(...xs) * dy)` with
 * respect to each of `xs` (`dy` defaults to ones). The golden data's gradient convention.
 * @example
 * const { value, grads } = vjp((x) => softmax(x), [logits], upstream);
 */
export function vjp(f: (...xs: Tensor[]) => Tensor, xs: readonly Tensor[], dy?: Tensor): ValueAndGrads {
  if (typeof f !== 'function') throw new ArgumentError('vjp', `f must be a function, got ${typeof f}`);
  xs.forEach((x, i) => checkTensor(x, 'vjp', `xs[${i}]`));
  const { value, grads: gs } = run('vjp', () => f(...xs), xs, dy, true);
  return { value: value!, grads: gs.map((g, i) => g ?? zerosFor(xs[i]!)) };
}

/**
 * Runs `f` and returns its output with the gradient of `sum(output)` with respect to each
 * variable in `vars` (default: every live trainable variable) that the output depends on.
 * Variables the output does not depend on are left out of the map.
 * @example
 * const w = variable(tensor([1, 2]));
 * const { value, grads } = variableGrads(() => sum(square(w.value)));
 * grads.get(w); // [2, 4]
 */
export function variableGrads(f: () => Tensor, vars?: readonly Variable[]): VariableGrads {
  if (typeof f !== 'function') throw new ArgumentError('variableGrads', `f must be a function, got ${typeof f}`);
  const list = vars ?? liveVariables({ trainableOnly: true });
  const values = list.map((v) => {
    if (v.isDisposed) throw new ArgumentError('variableGrads', `variable '${v.name}' was disposed`);
    return v.value;
  });
  const { value, grads: gs } = run('variableGrads', f, values, undefined, true);
  const map = new Map<Variable, Tensor>();
  gs.forEach((g, i) => {
    if (g !== undefined) map.set(list[i]!, g);
  });
  return { value: value!, grads: map };
}

/**
 * The same values as `x`, cut off from every tape: no gradient flows back through it.
 * @example
 * const target = stopGradient(prediction); // treat as a constant
 */
export function stopGradient(x: Tensor): Tensor {
  checkTensor(x, 'stopGradient', 'x');
  return alias(x);
}

/**
 * Runs `fn` without recording anything on any tape (evaluation, metric updates, weight
 * updates): cheaper, and nothing inside contributes to gradients.
 * @example
 * const acc = noGrad(() => mean(cast(equal(argmax(model(x), -1), labels), 'float32')));
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ArgumentError('noGrad', `fn must be a function, got ${typeof fn}`);
  return pausedTapes(fn);
}

/** What the function given to {@link customGrad} returns. @example ({ value: y, gradFunc: (dy) => [dy] }) */
export interface CustomGradResult {
  /** The op's output. */
  value: Tensor;
  /** One gradient per input (a single tensor for one input), from `dy` and the saved tensors. */
  gradFunc: (dy: Tensor, saved: readonly Tensor[]) => Tensor | readonly (Tensor | null | undefined)[];
}

/** Saves tensors for the gradient function of {@link customGrad}. @example save([x, y]) */
export type SaveFn = (tensors: readonly Tensor[]) => void;

/**
 * Defines an op with its own gradient. `f(...inputs, save)` computes `value` (not recorded)
 * and returns `gradFunc(dy, saved)`; call `save([...])` to keep tensors for `gradFunc`.
 * @example
 * const clipGrad = customGrad((x, save) => {
 *   save([x]);
 *   return { value: clone(x), gradFunc: (dy) => clip(dy, -1, 1) };
 * });
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function customGrad(f: (...args: any[]) => CustomGradResult): (...inputs: Tensor[]) => Tensor {
  if (typeof f !== 'function') throw new ArgumentError('customGrad', `f must be a function, got ${typeof f}`);
  return (...inputs: Tensor[]): Tensor => {
    inputs.forEach((x, i) => checkTensor(x, 'customGrad', `inputs[${i}]`));
    const saved: Tensor[] = [];
    // f runs with the tapes paused; its saved tensors are linked to the tapes recording now.
    const tapes = activeTapes().slice();
    const save = (ts: readonly Tensor[]): void => {
      for (const t of ts) saved.push(saveHandle(checkTensor(t, 'customGrad', 'a saved tensor'), undefined, tapes));
    };
    try {
      return recordCustom(f, inputs, saved, save);
    } finally {
      for (const t of saved) t.dispose();
    }
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function recordCustom(f: (...args: any[]) => CustomGradResult, inputs: Tensor[], saved: Tensor[], save: SaveFn): Tensor {
  const res = pausedTapes(() => tidy(() => f(...inputs, save)));
  if (res === null || typeof res !== 'object' || !(res.value instanceof Tensor) || typeof res.gradFunc !== 'function') {
    throw new ArgumentError('customGrad', 'f must return { value: Tensor, gradFunc: (dy, saved) => Tensor | Tensor[] }');
  }
  // The output must be a tensor of its own (not one of the inputs) for the tape to tell them apart.
  const value = inputs.includes(res.value) ? pausedTapes(() => alias(res.value)) : res.value;
  const gradFunc = res.gradFunc;
  const node = {
    inputs,
    output: value,
    saved,
    vjp: (dy: Tensor, kept: readonly Tensor[]) => {
      const before = markAt(dy);
      const r = gradFunc(dy, kept);
      const list = r instanceof Tensor ? [r] : [...r];
      if (list.length !== inputs.length) {
        throw new ArgumentError('customGrad', `gradFunc returned ${list.length} gradients for ${inputs.length} inputs`);
      }
      // A gradient that existed before gradFunc ran (an input, a saved tensor) is copied.
      return list.map((g) => (g instanceof Tensor && g.id <= before && g !== dy ? clone(g) : g));
    },
  };
  for (const tape of activeTapes()) tape.recordCustom(node);
  return value;
}

/** The largest tensor id in use right now (ids increase monotonically). */
function markAt(t: Tensor): number {
  const a = alias(t);
  const id = a.id;
  a.dispose();
  return id;
}

