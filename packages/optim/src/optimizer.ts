/**
 * The Optimizer base class: gradient clipping, learning-rate schedules, slot variables, the
 * step counter, state save/restore and `minimize`. Subclasses define the update rule.
 * @module
 */
import {
  ArgumentError,
  clip,
  clone,
  div,
  DTypeError,
  fmtShape,
  keep,
  maximum,
  mul,
  ShapeError,
  sqrt,
  square,
  sub,
  sum,
  add,
  Tensor,
  tidy,
  zerosLike,
  fill,
  optimizerStep,
  type OptimizerHyper,
  type OptimizerKind,
} from '@tessera/core';
import { noGrad, variableGrads, type Variable } from '@tessera/autograd';
import type { LearningRateSchedule } from './schedules.js';

/**
 * Options every optimizer accepts.
 * @example new SGD({ learningRate: 0.1, clipValue: 1, weightDecay: 1e-4 })
 */
export interface OptimizerOptions {
  /** A constant rate or a schedule of the step count. */
  learningRate?: number | LearningRateSchedule;
  /** Clip each gradient to this L2 norm: `g · clipNorm / max(‖g‖, clipNorm)`. */
  clipNorm?: number;
  /** Clip each gradient element to `[-clipValue, clipValue]`. */
  clipValue?: number;
  /** Scale all gradients of a step by `globalClipNorm / max(‖all‖, globalClipNorm)`. */
  globalClipNorm?: number;
  /**
   * Decoupled weight decay applied before the update: `p -= lr · weightDecay · p`
   * (Keras 3's `weight_decay`). Default 0 (AdamW: 0.004).
   */
  weightDecay?: number;
  /**
   * Differential learning rates: each group's variables are updated with the group's rate
   * (fine-tuning a pretrained base slower than a new head). Variables in no group use
   * `learningRate`. A variable may belong to one group only.
   * @example adam({ learningRate: 1e-3, paramGroups: [{ params: base.trainableWeights, learningRateScale: 0.1 }] })
   */
  paramGroups?: readonly ParamGroup[];
}

/**
 * A set of variables with their own learning rate (see {@link OptimizerOptions.paramGroups}).
 * Give exactly one of `learningRate` (absolute, as in PyTorch's parameter groups) or
 * `learningRateScale` (a multiplier of the optimizer's rate, so it follows schedules and
 * callbacks such as ReduceLROnPlateau).
 * @example { params: [dense.kernel, dense.bias], learningRate: 1e-4 }
 */
export interface ParamGroup {
  /** The variables of the group. */
  params: readonly Variable[];
  /** A constant rate or a schedule of the step count for these variables. */
  learningRate?: number | LearningRateSchedule;
  /** These variables' rate is the optimizer's rate times this factor (>= 0). */
  learningRateScale?: number;
}

/**
 * What {@link Optimizer.getState} returns and {@link Optimizer.setState} accepts: slot tensors
 * named `<variable name>/<slot>` and JSON numbers (`iterations`, `learningRate`, …).
 * @example const { tensors, numbers } = opt.getState(); other.setState({ tensors, numbers }, vars)
 */
export interface OptimizerState {
  tensors: Record<string, Tensor>;
  numbers: Record<string, number>;
}

/**
 * Gradients to apply: a map from variable to gradient (as `variableGrads` returns), or pairs.
 * @example opt.applyGradients([[w, dw], [b, db]])
 */
export type GradientsInput = Map<Variable, Tensor> | Iterable<readonly [Variable, Tensor | null | undefined]>;

/** One variable's slots, in the order the subclass declares them. */
interface Slots {
  readonly variable: Variable;
  readonly tensors: Tensor[];
}

function checkNonNeg(op: string, what: string, v: number | undefined): void {
  if (v !== undefined && !(typeof v === 'number' && v >= 0 && Number.isFinite(v))) {
    throw new ArgumentError(op, `${what} must be a finite number >= 0, got ${String(v)}`);
  }
}

/**
 * Base class of the optimizers. An optimizer owns per-variable slot tensors (created at the
 * first update), a step counter and a learning rate (a number or a schedule of the step).
 * @example
 * const opt = new Adam({ learningRate: 1e-3 });
 * const loss = opt.minimize(() => meanSquaredError(y, model(x)));
 * loss.dispose();
 */
export abstract class Optimizer {
  /** The Keras name (`'adam'`, `'sgd'`, …). */
  abstract readonly name: string;
  /** Updates applied so far (Keras `iterations`). */
  iterations = 0;
  readonly clipNorm: number | undefined;
  readonly clipValue: number | undefined;
  readonly globalClipNorm: number | undefined;
  readonly weightDecay: number;
  private rate: number | LearningRateSchedule;
  /** Variable -> its parameter group (absent: the optimizer's own rate). */
  private readonly groupOf = new Map<Variable, ParamGroup>();
  private readonly slots = new Map<Variable, Slots>();
  /** Restored slot values waiting for their variable's first update (see setState). */
  private pending = new Map<string, Tensor>();

  constructor(options: OptimizerOptions, defaultRate: number) {
    const op = new.target.name;
    const lr = options.learningRate ?? defaultRate;
    if (typeof lr !== 'function') checkNonNeg(op, 'learningRate', lr);
    this.rate = lr;
    checkNonNeg(op, 'clipNorm', options.clipNorm);
    checkNonNeg(op, 'clipValue', options.clipValue);
    checkNonNeg(op, 'globalClipNorm', options.globalClipNorm);
    checkNonNeg(op, 'weightDecay', options.weightDecay);
    if (options.clipNorm !== undefined && options.globalClipNorm !== undefined) {
      throw new ArgumentError(op, 'clipNorm and globalClipNorm cannot both be set');
    }
    this.clipNorm = options.clipNorm;
    this.clipValue = options.clipValue;
    this.globalClipNorm = options.globalClipNorm;
    this.weightDecay = options.weightDecay ?? 0;
    this.initGroups(op, options.paramGroups);
  }

  private initGroups(op: string, groups: readonly ParamGroup[] | undefined): void {
    if (groups === undefined) return;
    if (!Array.isArray(groups)) throw new ArgumentError(op, `paramGroups must be an array of { params, learningRate | learningRateScale }, got ${typeof groups}`);
    groups.forEach((g: ParamGroup, i) => {
      if (g === null || typeof g !== 'object' || !Array.isArray(g.params)) throw new ArgumentError(op, `paramGroups[${i}] must be { params: Variable[], learningRate | learningRateScale }`);
      const hasRate = g.learningRate !== undefined;
      if (hasRate === (g.learningRateScale !== undefined)) {
        throw new ArgumentError(op, `paramGroups[${i}] needs exactly one of learningRate and learningRateScale`);
      }
      if (hasRate && typeof g.learningRate !== 'function') checkNonNeg(op, `paramGroups[${i}].learningRate`, g.learningRate as number);
      if (!hasRate) checkNonNeg(op, `paramGroups[${i}].learningRateScale`, g.learningRateScale);
      const group: ParamGroup = { ...g, params: [...g.params] };
      for (const v of group.params) {
        if (v === null || typeof v !== 'object' || typeof (v as Variable).assign !== 'function') {
          throw new ArgumentError(op, `paramGroups[${i}].params holds something that is not a Variable`);
        }
        if (this.groupOf.has(v)) throw new ArgumentError(op, `variable '${v.name}' is in more than one of paramGroups (again in paramGroups[${i}])`);
        this.groupOf.set(v, group);
      }
    });
  }

  /** The parameter groups given at construction (copies of the arrays). */
  get paramGroups(): ParamGroup[] {
    return [...new Set(this.groupOf.values())].map((g) => ({ ...g, params: [...g.params] }));
  }

  /** The learning rate of the next update of `v`: its group's rate, else {@link learningRate}. */
  learningRateOf(v: Variable): number {
    const g = this.groupOf.get(v);
    if (g === undefined) return this.learningRate;
    if (g.learningRate === undefined) return this.learningRate * g.learningRateScale!;
    return typeof g.learningRate === 'function' ? g.learningRate(this.iterations) : g.learningRate;
  }

  /**
   * The learning rate of the next update (the schedule's value at `iterations`). Setting it
   * (e.g. from a reduce-on-plateau callback) replaces any schedule with the constant.
   */
  get learningRate(): number {
    return typeof this.rate === 'function' ? this.rate(this.iterations) : this.rate;
  }

  set learningRate(v: number) {
    checkNonNeg(this.name, 'learningRate', v);
    this.rate = v;
  }

  /** The schedule, when the rate follows one. */
  get schedule(): LearningRateSchedule | undefined {
    return typeof this.rate === 'function' ? this.rate : undefined;
  }

  /** Slot names of one variable, in order (e.g. Adam: `['m', 'v']`). */
  protected abstract slotNames(): readonly string[];

  /** Initial value of slot `i` (default 0). */
  protected slotInit(_i: number): number {
    return 0;
  }

  /**
   * Updates `vars[k]` (in place or through `assign`) and its slots from `grads[k]`, with the
   * learning rate `lr` of step `step` (1-based). Runs inside `tidy` and `noGrad`.
   */
  protected abstract update(vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], lr: number, step: number): void;

  /** Keras-style hyper-parameters of the subclass, for {@link getConfig}. */
  protected abstract hyper(): Record<string, number | boolean>;

  /**
   * Applies one step of gradients (as `variableGrads` returns them). Gradients are not disposed.
   * @example
   * const { value, grads } = variableGrads(() => loss());
   * opt.applyGradients(grads);
   * dispose([value, ...grads.values()]);
   */
  applyGradients(grads: GradientsInput): void {
    const op = `${this.name}.applyGradients`;
    const vars: Variable[] = [];
    const gs: Tensor[] = [];
    for (const [v, g] of grads as Iterable<readonly [Variable, Tensor | null | undefined]>) {
      if (g === null || g === undefined) continue;
      if (!(g instanceof Tensor)) throw new ArgumentError(op, `the gradient of '${v.name}' is not a Tensor`);
      if (v.isDisposed) throw new ArgumentError(op, `variable '${v.name}' was disposed`);
      if (v.dtype !== 'float32') throw new DTypeError(op, `variable '${v.name}' is ${v.dtype}; only float32 variables can be optimized`);
      if (g.shape.length !== v.shape.length || g.shape.some((d, i) => d !== v.shape[i])) {
        throw new ShapeError(op, `the gradient of '${v.name}' has shape ${fmtShape(g.shape)}; expected ${fmtShape(v.shape)}`);
      }
      vars.push(v);
      gs.push(g);
    }
    if (vars.length === 0) return;
    this.prune();
    const slots = vars.map((v) => this.slotsOf(v));
    const step = this.iterations + 1;
    // Variables grouped by learning rate: one update call per rate (a single call without groups).
    const byRate = new Map<number, number[]>();
    vars.forEach((v, k) => {
      const lr = this.learningRateOf(v);
      const ks = byRate.get(lr);
      if (ks === undefined) byRate.set(lr, [k]);
      else ks.push(k);
    });
    // Scalar state a subclass advances once per update call (Nadam's product) must advance once per step.
    const extra = byRate.size > 1 ? this.extraNumbers() : null;
    noGrad(() =>
      tidy(() => {
        const clipped = this.clip(gs); // global clipping sees every gradient of the step
        for (const [lr, ks] of byRate) {
          if (extra !== null) this.setExtraNumbers(extra);
          const vs = ks.map((k) => vars[k]!);
          if (this.weightDecay > 0 && this.decaysInUpdate() === false) {
            for (const v of vs) v.assign(sub(v.value, mul(v.value, lr * this.weightDecay)));
          }
          this.update(vs, ks.map((k) => clipped[k]!), ks.map((k) => slots[k]!), lr, step);
        }
      }),
    );
    this.iterations = step;
  }

  /** True when the subclass applies `weightDecay` itself (AdamW through the fused step). */
  protected decaysInUpdate(): boolean {
    return false;
  }

  /**
   * Computes the gradients of `lossFn()` with respect to `vars` (default: every trainable
   * variable it uses), applies them and returns the loss (yours to dispose).
   * @example const loss = opt.minimize(() => meanSquaredError(y, predict(x)));
   */
  minimize(lossFn: () => Tensor, vars?: readonly Variable[]): Tensor {
    const { value, grads } = variableGrads(lossFn, vars);
    try {
      this.applyGradients(grads);
    } finally {
      for (const g of grads.values()) g.dispose();
    }
    return value;
  }

  private clip(gs: readonly Tensor[]): Tensor[] {
    let out = gs.slice();
    if (this.clipNorm !== undefined) {
      const c = this.clipNorm;
      out = out.map((g) => mul(g, div(c, maximum(sqrt(sum(square(g))), c))));
    }
    if (this.globalClipNorm !== undefined) {
      const c = this.globalClipNorm;
      let total: Tensor | undefined;
      for (const g of out) {
        const s = sum(square(g));
        total = total === undefined ? s : add(total, s);
      }
      const scale = div(c, maximum(sqrt(total!), c));
      out = out.map((g) => mul(g, scale));
    }
    if (this.clipValue !== undefined) out = out.map((g) => clip(g, -this.clipValue!, this.clipValue!));
    return out;
  }

  /** Frees the slots of variables disposed since the last step. */
  private prune(): void {
    for (const [v, s] of this.slots) {
      if (!v.isDisposed) continue;
      for (const t of s.tensors) t.dispose();
      this.slots.delete(v);
    }
  }

  private slotsOf(v: Variable): Tensor[] {
    let s = this.slots.get(v);
    if (s === undefined) {
      const names = this.slotNames();
      const tensors = names.map((n, i) =>
        noGrad(() => {
          const restored = this.pending.get(`${v.name}/${n}`);
          if (restored !== undefined) {
            this.pending.delete(`${v.name}/${n}`);
            return restored;
          }
          const init = this.slotInit(i);
          return keep(init === 0 ? zerosLike(v.value) : fill(v.shape, init, 'float32'));
        }),
      );
      s = { variable: v, tensors };
      this.slots.set(v, s);
    }
    return s.tensors;
  }

  /** Replaces slot `i` of a variable's slots with `t` (kept), freeing the old tensor. */
  protected setSlot(slots: Tensor[], i: number, t: Tensor): void {
    const old = slots[i]!;
    slots[i] = keep(t);
    old.dispose();
  }

  /** Runs core's in-place `optimizerStep` (one fused kernel on backends that have it). */
  protected fusedStep(kind: OptimizerKind, vars: readonly Variable[], grads: readonly Tensor[], slots: readonly Tensor[][], hyper: OptimizerHyper): void {
    optimizerStep(kind, vars.map((v) => v.value), grads, slots, hyper);
  }

  /**
   * The hyper-parameters and options as JSON (the learning rate as a number, or the schedule's
   * config).
   * @example new Adam().getConfig() // { name: 'adam', learningRate: 0.001, beta1: 0.9, ... }
   */
  getConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { name: this.name, learningRate: typeof this.rate === 'function' ? this.rate.config : this.rate, ...this.hyper() };
    if (this.clipNorm !== undefined) c.clipNorm = this.clipNorm;
    if (this.clipValue !== undefined) c.clipValue = this.clipValue;
    if (this.globalClipNorm !== undefined) c.globalClipNorm = this.globalClipNorm;
    if (this.weightDecay) c.weightDecay = this.weightDecay;
    return c;
  }

  /** Extra scalar state of a subclass (Nadam's running product). */
  protected extraNumbers(): Record<string, number> {
    return {};
  }

  protected setExtraNumbers(_n: Record<string, number>): void {}

  /**
   * The state needed to resume training: copies of every slot tensor (named
   * `<key>/<slot>`; yours to dispose) and the step count and learning rate. The key of a
   * variable is `keys.get(variable)` when given, else its name. Variable names are made unique
   * among the variables live in a process (`dense/kernel_1` when a copy of the model is loaded
   * next to it), so state meant for another process should be keyed by something stable
   * there, such as the model's weight paths (what `model.save` and `BackupAndRestore` do).
   * @example const { tensors, numbers } = opt.getState(new Map(model.weightEntries.map((e) => [e.variable, e.name])));
   */
  getState(keys?: ReadonlyMap<Variable, string>): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    const names = this.slotNames();
    noGrad(() => {
      for (const { variable, tensors: ts } of this.slots.values()) {
        if (variable.isDisposed) continue;
        ts.forEach((t, i) => (tensors[`${keys?.get(variable) ?? variable.name}/${names[i]}`] = clone(t)));
      }
      for (const [k, t] of this.pending) tensors[k] = clone(t);
    });
    return { tensors, numbers: { iterations: this.iterations, learningRate: this.learningRate, ...this.extraNumbers() } };
  }

  /**
   * Restores a state from {@link getState} (possibly of another process): slot tensors are
   * matched to variables by name — at once for `variables` (an unknown name is an error) and
   * variables already seen, at their first update otherwise. The tensors passed in stay the
   * caller's. A schedule, if any, is kept (only `iterations` moves it); otherwise
   * `learningRate` is restored. `keys` names the variables as {@link getState} was given them
   * (default: by variable name).
   * @example opt.setState({ tensors, numbers: { iterations: 100, learningRate: 1e-3 } }, model.trainableWeights);
   */
  setState(state: OptimizerState, variables?: readonly Variable[], keys?: ReadonlyMap<Variable, string>): void {
    const op = `${this.name}.setState`;
    if (state === null || typeof state !== 'object' || typeof state.tensors !== 'object' || typeof state.numbers !== 'object') {
      throw new ArgumentError(op, 'expected { tensors: Record<string, Tensor>, numbers: Record<string, number> }');
    }
    const names = this.slotNames();
    if (variables !== undefined) {
      const known = new Set(variables.map((v) => keys?.get(v) ?? v.name));
      for (const key of Object.keys(state.tensors)) {
        if (!known.has(key.slice(0, key.lastIndexOf('/')))) {
          throw new ArgumentError(op, `state tensor '${key}' matches none of the variables (${[...known].join(', ')})`);
        }
      }
      for (const v of variables) this.slotsOf(v);
    }
    const byName = new Map<string, Slots>();
    for (const s of this.slots.values()) byName.set(keys?.get(s.variable) ?? s.variable.name, s);
    for (const t of this.pending.values()) t.dispose();
    this.pending = new Map();
    noGrad(() => {
      for (const [key, t] of Object.entries(state.tensors)) {
        if (!(t instanceof Tensor)) throw new ArgumentError(op, `state tensor '${key}' is not a Tensor`);
        const cut = key.lastIndexOf('/');
        const varName = key.slice(0, cut);
        const slot = names.indexOf(key.slice(cut + 1));
        if (cut < 0 || slot < 0) throw new ArgumentError(op, `state tensor '${key}' is not '<variable>/<${names.join('|')}>'`);
        const s = byName.get(varName);
        if (s !== undefined) {
          if (t.shape.length !== s.variable.shape.length || t.shape.some((d, i) => d !== s.variable.shape[i])) {
            throw new ShapeError(op, `state tensor '${key}' has shape ${fmtShape(t.shape)}; variable '${varName}' is ${fmtShape(s.variable.shape)}`);
          }
          this.setSlot(s.tensors, slot, clone(t));
        } else this.pending.set(key, keep(clone(t)));
      }
    });
    const n = state.numbers;
    if (typeof n.iterations === 'number') this.iterations = n.iterations;
    if (typeof n.learningRate === 'number' && typeof this.rate !== 'function') this.rate = n.learningRate;
    this.setExtraNumbers(n);
  }

  /** Frees every slot tensor. The optimizer starts afresh at its next update. @example opt.dispose() */
  dispose(): void {
    for (const s of this.slots.values()) for (const t of s.tensors) t.dispose();
    this.slots.clear();
    for (const t of this.pending.values()) t.dispose();
    this.pending.clear();
  }
}
