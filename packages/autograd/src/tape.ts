/**
 * The reverse-mode tape. Every active tape sees every differentiable op the core reports
 * through its recorder hook (`setOpRecorder`); a tape keeps an op only when one of its inputs
 * descends from a tensor the tape watches. The backward pass walks the kept ops in reverse,
 * calling one VJP rule per op name; the rules are written with core ops, so a tape that is
 * still recording (an outer one) records the backward pass too — that is how higher-order
 * gradients work.
 * @module
 */
import {
  add,
  alias,
  reshape,
  setOpRecorder,
  shapesEqual,
  sum,
  tidy,
  fmtShape,
  ShapeError,
  TesseraError,
  type DType,
  type OpRecord,
  type OpRecorder,
  type Tensor,
} from '@tessera/core';
import { BUILTIN_RULES } from './rules.js';

/**
 * What a VJP rule receives besides the upstream gradient.
 * @example vjp: (dy, ctx) => [ctx.needs[0] ? mul(dy, ctx.inputs[1]!) : null, null]
 */
export interface VjpContext {
  /** The op name as recorded (`'mul'`, `'matmul'`, …). */
  readonly name: string;
  /**
   * The op's inputs, as handles the tape owns (valid even if the caller disposed the
   * originals). An entry is `undefined` when the rule's `save` policy did not keep it.
   */
  readonly inputs: readonly (Tensor | undefined)[];
  /** The op's output (only when the rule asked for it with `saveOutput`). */
  readonly output: Tensor | undefined;
  /** The non-tensor arguments the core recorded (axes, shapes, flags). */
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly inShapes: readonly (readonly number[])[];
  readonly inDtypes: readonly DType[];
  readonly outShape: readonly number[];
  /** `needs[i]` is true when input `i` descends from a watched tensor and is float32. */
  readonly needs: readonly boolean[];
}

/**
 * A gradient rule: returns one gradient per input (`null`/`undefined` for none). A gradient
 * may have the broadcast shape of the op; the tape sums it back to the input's shape.
 * @example registerGradient('double', { saveInputs: false, vjp: (dy) => [mul(dy, 2)] })
 */
export interface GradRule {
  /** Which inputs the rule reads: all (default `true`), none (`false`), or a list of indices. */
  readonly saveInputs?: boolean | readonly number[];
  /** Whether the rule reads the op's output (default `false`). */
  readonly saveOutput?: boolean;
  vjp(dy: Tensor, ctx: VjpContext): readonly (Tensor | null | undefined)[];
}

interface Node extends VjpContext {
  rule: GradRule | undefined;
  inputs: (Tensor | undefined)[];
  output: Tensor | undefined;
  inSlots: number[];
  outSlot: number;
  done: boolean;
}

const rules = new Map<string, GradRule>(Object.entries(BUILTIN_RULES));

/**
 * Registers (or replaces) the gradient rule of an op name, for ops defined outside the core
 * or to override a built-in rule.
 * @example
 * registerGradient('myScale', { saveInputs: false, vjp: (dy) => [mul(dy, 2)] });
 */
export function registerGradient(name: string, rule: GradRule): void {
  rules.set(name, rule);
}

/** The rule registered for an op name, if any. @example getGradient('mul') !== undefined */
export function getGradient(name: string): GradRule | undefined {
  return rules.get(name);
}

/** Names of every op with a gradient rule. @example listGradients().includes('matmul') // true */
export function listGradients(): string[] {
  return [...rules.keys()].sort();
}

/**
 * A tape-owned handle on `t`'s storage that tidy scopes leave alone. Every other recording tape
 * that tracks `t` learns that the handle stands for the same value, so the ops a backward pass
 * runs on handles are differentiable by outer tapes (higher-order gradients). The tape always
 * disposes its handles itself, so they skip `keep`'s FinalizationRegistry registration (which
 * costs about as much as an op).
 * @example const h = saveHandle(x, tape); use(h); h.dispose();
 */
export function saveHandle(t: Tensor, owner?: Tape, tapes: readonly Tape[] = active): Tensor {
  const a = alias(t);
  a.kept = true;
  for (let i = 0; i < tapes.length; i++) {
    const tape = tapes[i]!;
    if (tape !== owner) tape.link(a, t);
  }
  return a;
}

const active: Tape[] = [];
let outerRecorder: OpRecorder | null = null;
const recorder: OpRecorder = (r) => {
  for (let i = 0; i < active.length; i++) active[i]!.record(r);
};

/**
 * @internal Starts recording on `tape` (nested tapes all record).
 * @example pushTape(tape); try { f() } finally { popTape(tape) }
 */
export function pushTape(tape: Tape): void {
  if (active.length === 0) outerRecorder = setOpRecorder(recorder);
  active.push(tape);
}

/**
 * @internal Stops recording on `tape`.
 * @example popTape(tape)
 */
export function popTape(tape: Tape): void {
  const i = active.lastIndexOf(tape);
  if (i < 0) return;
  active.splice(i, 1);
  if (active.length === 0) {
    setOpRecorder(outerRecorder);
    outerRecorder = null;
  }
}

/**
 * @internal Runs `fn` with every tape paused (nothing is recorded).
 * @example pausedTapes(() => exp(x)) // not recorded
 */
export function pausedTapes<T>(fn: () => T): T {
  const saved = active.splice(0);
  const prev = setOpRecorder(null);
  const prevOuter = outerRecorder;
  outerRecorder = null;
  try {
    return fn();
  } finally {
    // A tape started inside fn has been popped again by now (grad calls are synchronous).
    setOpRecorder(prev);
    outerRecorder = prevOuter;
    active.push(...saved);
  }
}

/**
 * @internal The tapes recording right now (innermost last).
 * @example for (const t of activeTapes()) t.recordCustom(node)
 */
export function activeTapes(): readonly Tape[] {
  return active;
}

/**
 * Sums a gradient of a broadcast shape back to `shape` (leading axes and size-1 axes).
 * @example unbroadcast(ones([4, 2, 3]), [2, 1]) // [2, 1] of 12s
 */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new ShapeError('grad', `gradient ${fmtShape(g.shape)} cannot be summed to shape ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length > 0 ? sum(g, axes) : g;
  if (shapesEqual(s.shape, shape)) return s;
  if (s.size !== shape.reduce((a, b) => a * b, 1)) {
    throw new ShapeError('grad', `gradient ${fmtShape(g.shape)} cannot be summed to shape ${fmtShape(shape)}`);
  }
  const r = reshape(s, shape);
  if (s !== g) s.dispose();
  return r;
}

/**
 * A custom node (see `customGrad`): its VJP is a closure over tensors the node owns.
 * @example tape.recordCustom({ inputs: [x], output: y, saved: [], vjp: (dy) => [dy] })
 */
export interface CustomNode {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly saved: readonly Tensor[];
  readonly vjp: (dy: Tensor, saved: readonly Tensor[]) => readonly (Tensor | null | undefined)[];
}

/**
 * One recording: watched tensors ("sources"), the ops that descend from them, and the
 * backward pass. Used through `grad`, `valueAndGrad`, `variableGrads`, … rather than directly.
 * @example const tape = new Tape(); const s = tape.watch(x); pushTape(tape); const y = f(x); popTape(tape); const [gx] = tape.backward(y, onesLike(y), [s]);
 */
export class Tape {
  /** Tensor (root object) → slot. Slots number the sources first, then op outputs. */
  private readonly slots = new Map<Tensor, number>();
  private readonly nodes: Node[] = [];
  private readonly slotShapes: (readonly number[])[] = [];
  private nSlots = 0;
  private finished = false;

  /** Watches `x` (float32 only; other dtypes get no gradient); returns its slot or -1. */
  watch(x: Tensor): number {
    if (x.dtype !== 'float32') return -1;
    const known = this.slotOf(x);
    if (known >= 0) return known;
    const s = this.nSlots++;
    this.slots.set(x, s);
    this.slotShapes.push(x.shape);
    return s;
  }

  /** The slot of a tensor (or of a tape handle on it), or -1. */
  slotOf(t: Tensor): number {
    return this.slots.get(t) ?? -1;
  }

  /** Makes `handle` (an alias of `t`) stand for `t` on this tape. */
  link(handle: Tensor, t: Tensor): void {
    const s = this.slots.get(t);
    if (s !== undefined) this.slots.set(handle, s);
  }

  /** Receives one op from the core. */
  record(r: OpRecord): void {
    const inputs = r.inputs;
    const n = inputs.length;
    let tracked = false;
    for (let i = 0; i < n; i++) {
      if (this.slotOf(inputs[i]!) >= 0) {
        tracked = true;
        break;
      }
    }
    if (!tracked || r.output.dtype !== 'float32') return;
    const rule = rules.get(r.name);
    const inSlots = new Array<number>(n);
    const needs = new Array<boolean>(n);
    const saved = new Array<Tensor | undefined>(n);
    const inShapes = new Array<readonly number[]>(n);
    const inDtypes = new Array<DType>(n);
    const save = rule?.saveInputs ?? true;
    for (let i = 0; i < n; i++) {
      const t = inputs[i]!;
      const s = t.dtype === 'float32' ? this.slotOf(t) : -1;
      inSlots[i] = s;
      needs[i] = s >= 0;
      inShapes[i] = t.shape;
      inDtypes[i] = t.dtype;
      if (rule !== undefined && (save === true || (save !== false && save.includes(i)))) saved[i] = saveHandle(t, this);
    }
    const outSlot = this.nSlots++;
    this.slots.set(r.output, outSlot);
    this.slotShapes.push(r.output.shape);
    this.nodes.push({
      name: r.name,
      rule,
      inputs: saved,
      output: rule?.saveOutput ? saveHandle(r.output, this) : undefined,
      attrs: r.attrs,
      inShapes,
      inDtypes,
      outShape: r.output.shape,
      needs,
      inSlots,
      outSlot,
      done: false,
    });
  }

  /** Records a `customGrad` op: inputs, output and a closure VJP over the node's saved tensors. */
  recordCustom(c: CustomNode): void {
    const n = c.inputs.length;
    const inSlots = c.inputs.map((t) => (t.dtype === 'float32' ? this.slotOf(t) : -1));
    if (!inSlots.some((s) => s >= 0) || c.output.dtype !== 'float32') return;
    const saved = c.saved.map((t) => saveHandle(t, this));
    const outSlot = this.nSlots++;
    this.slots.set(c.output, outSlot);
    this.slotShapes.push(c.output.shape);
    this.nodes.push({
      name: 'customGrad',
      rule: { saveInputs: false, vjp: (dy) => c.vjp(dy, saved) },
      inputs: saved,
      output: undefined,
      attrs: {},
      inShapes: c.inputs.map((t) => t.shape),
      inDtypes: c.inputs.map((t) => t.dtype),
      outShape: c.output.shape,
      needs: inSlots.map((s) => s >= 0),
      inSlots,
      outSlot,
      done: false,
    });
  }

  /**
   * Runs the backward pass from `y` with upstream gradient `seed` (same shape as `y`; not
   * disposed here) and returns the gradient of each source slot (`undefined` where none
   * arrived). The caller owns the returned tensors; a tensor may appear at several slots only
   * if the caller asked for one slot twice, and then it is cloned by the caller.
   */
  backward(y: Tensor, seed: Tensor, sourceSlots: readonly number[]): (Tensor | undefined)[] {
    if (this.finished) throw new TesseraError('grad', 'this tape was already used');
    this.finished = true;
    const ySlot = this.slotOf(y);
    const grads = new Array<Tensor | undefined>(this.nSlots);
    // Reference counts of the gradient tensors this pass created (the seed is borrowed).
    const refs = new Map<Tensor, number>();
    const release = (t: Tensor): void => {
      const c = refs.get(t);
      if (c === undefined) return;
      if (c <= 1) {
        refs.delete(t);
        t.dispose();
      } else refs.set(t, c - 1);
    };
    const accumulate = (slot: number, g: Tensor): void => {
      const prev = grads[slot];
      if (prev === undefined) {
        grads[slot] = g;
        if (refs.has(g)) refs.set(g, refs.get(g)! + 1);
        return;
      }
      const s = add(prev, g);
      refs.set(s, 1);
      grads[slot] = s;
      release(prev);
    };
    if (ySlot < 0) return sourceSlots.map(() => undefined);
    grads[ySlot] = seed;
    const nodes = this.nodes;
    try {
      for (let k = nodes.length - 1; k >= 0; k--) {
        const node = nodes[k]!;
        if (node.outSlot > ySlot) {
          this.free(node);
          continue;
        }
        const g = grads[node.outSlot];
        if (g === undefined) {
          this.free(node);
          continue;
        }
        const rule = node.rule;
        if (rule === undefined) {
          throw new TesseraError(
            'grad',
            `op '${node.name}' has no gradient rule, and a gradient flows through it (output ${fmtShape(node.outShape)}); ` +
              `wrap it in stopGradient() if no gradient is meant to flow, or add one with registerGradient('${node.name}', rule)`,
          );
        }
        grads[node.outSlot] = undefined;
        let results: (Tensor | null | undefined)[];
        try {
          results = tidy(() => applyRule(rule, g, node));
        } catch (e) {
          release(g);
          throw e;
        }
        // A rule returns `g` itself or tensors it created; the latter are ours from here on.
        const fresh: Tensor[] = [];
        for (let i = 0; i < node.inSlots.length; i++) {
          const gi = results[i];
          if (gi == null) continue;
          if (gi !== g && !refs.has(gi)) {
            refs.set(gi, 0);
            fresh.push(gi);
          }
          accumulate(node.inSlots[i]!, gi);
        }
        for (const t of fresh) {
          if (refs.get(t) === 0) {
            refs.delete(t);
            t.dispose();
          }
        }
        release(g);
        this.free(node);
      }
      const out = sourceSlots.map((s) => (s >= 0 ? grads[s] : undefined));
      // Hand the source gradients to the caller; free every other gradient still held.
      const given = new Set<Tensor>();
      for (const t of out) if (t !== undefined) given.add(t);
      for (let s = 0; s < grads.length; s++) {
        const t = grads[s];
        if (t === undefined) continue;
        grads[s] = undefined;
        if (given.has(t)) continue;
        release(t);
      }
      for (const t of given) refs.delete(t);
      return out;
    } catch (e) {
      for (const t of grads) if (t !== undefined) release(t);
      throw e;
    } finally {
      this.dispose();
    }
  }

  private free(node: Node): void {
    if (node.done) return;
    node.done = true;
    for (const t of node.inputs) t?.dispose();
    node.output?.dispose();
  }

  /** Frees every handle the tape still holds. Safe to call twice. */
  dispose(): void {
    for (const n of this.nodes) this.free(n);
    this.nodes.length = 0;
    this.slots.clear();
  }
}

/** Runs a rule and sums each gradient back to its input's shape (inside the caller's tidy). */
function applyRule(rule: GradRule, g: Tensor, node: Node): (Tensor | null | undefined)[] {
  const r = rule.vjp(g, node).slice();
  for (let i = 0; i < node.inSlots.length; i++) {
    const gi = r[i];
    if (gi == null || node.inSlots[i]! < 0) {
      r[i] = null;
      continue;
    }
    if (!shapesEqual(gi.shape, node.inShapes[i]!)) r[i] = unbroadcast(gi, node.inShapes[i]!);
  }
  return r;
}
