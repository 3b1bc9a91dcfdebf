/**
 * Walking dataset elements: tensors nested in arrays and plain objects.
 * @module
 */
import { alias, ArgumentError, DisposedTensorError, dispose, fmtShape, keep, ShapeError, shapesEqual, stack, tensor, Tensor } from '@tessera/core';

const MAX_DEPTH = 32;

/** True for `{}` literals and `Object.create(null)` objects (the containers we walk). */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Calls `f` on every tensor in `x` (arrays and plain objects, nested). */
export function forEachTensor(x: unknown, f: (t: Tensor) => void, depth = 0): void {
  if (x instanceof Tensor) f(x);
  else if (depth > MAX_DEPTH) return;
  else if (Array.isArray(x)) for (const v of x) forEachTensor(v, f, depth + 1);
  else if (isPlainObject(x)) for (const v of Object.values(x)) forEachTensor(v, f, depth + 1);
}

/** The tensors in `x`, each once. */
export function tensorsIn(x: unknown): Set<Tensor> {
  const out = new Set<Tensor>();
  forEachTensor(x, (t) => out.add(t));
  return out;
}

/** A copy of the structure of `x` with every tensor replaced by `f(t)`. */
export function mapTensors<T>(x: T, f: (t: Tensor) => Tensor, depth = 0): T {
  if (x instanceof Tensor) return f(x) as T;
  if (depth > MAX_DEPTH) return x;
  if (Array.isArray(x)) return x.map((v) => mapTensors(v, f, depth + 1)) as T;
  if (isPlainObject(x)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = mapTensors(v, f, depth + 1);
    return out as T;
  }
  return x;
}

/** Marks every tensor of an element as the pipeline's, so no `tidy` scope frees it. */
export function protect<T>(x: T): T {
  forEachTensor(x, (t) => keep(t));
  return x;
}

/**
 * Hands an element to the consumer: each tensor becomes a fresh handle (same storage)
 * created in the caller's current scope, as if the consumer's own op had made it, and the
 * pipeline's protected handle is released.
 */
export function adopt<T>(x: T): T {
  const seen = new Map<Tensor, Tensor>();
  const out = mapTensors(x, (t) => {
    let a = seen.get(t);
    if (a === undefined) {
      a = alias(t);
      seen.set(t, a);
    }
    return a;
  });
  for (const t of seen.keys()) t.dispose();
  return out;
}

/** Fresh protected handles on the tensors of `x` (for sources that keep ownership). */
export function aliasAll<T>(x: T): T {
  const seen = new Map<Tensor, Tensor>();
  return mapTensors(x, (t) => {
    let a = seen.get(t);
    if (a === undefined) {
      if (t.isDisposed) throw new DisposedTensorError('Dataset', `source tensor #${t.id} ${fmtShape(t.shape)} ${t.dtype} was disposed while the dataset still uses it`);
      a = keep(alias(t));
      seen.set(t, a);
    }
    return a;
  });
}

/** Disposes every tensor in `x`. */
export function disposeAll(x: unknown): void {
  const set = tensorsIn(x);
  if (set.size > 0) dispose([...set]);
}

/**
 * Combines `n` elements of one structure into one batched element: tensors are stacked on a
 * new axis 0, numbers become a float32 tensor, booleans a bool tensor, anything else an
 * array. Throws when the structures or tensor shapes differ.
 */
export function batchElements(items: readonly unknown[], path = 'element', depth = 0): unknown {
  const first = items[0];
  if (first instanceof Tensor) {
    items.forEach((x, i) => {
      if (!(x instanceof Tensor)) throw new ArgumentError('batch', `${path} is a tensor in the batch's element 0 but ${describe(x)} in element ${i}`);
      if (!shapesEqual(x.shape, first.shape) || x.dtype !== first.dtype) {
        throw new ShapeError('batch', `${path} is ${first.dtype} ${fmtShape(first.shape)} in the batch's element 0 but ${x.dtype} ${fmtShape(x.shape)} in element ${i}; batch needs equal shapes (map each element to one shape first)`);
      }
    });
    return stack(items as Tensor[], 0);
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    items.forEach((x, i) => {
      if (typeof x !== typeof first) throw new ArgumentError('batch', `${path} is a ${typeof first} in the batch's element 0 but ${describe(x)} in element ${i}`);
    });
    return tensor(items as number[] | boolean[], [items.length], typeof first === 'number' ? 'float32' : 'bool');
  }
  if (depth <= MAX_DEPTH && Array.isArray(first)) {
    items.forEach((x, i) => {
      if (!Array.isArray(x) || x.length !== first.length) {
        throw new ArgumentError('batch', `${path} is an array of ${first.length} in the batch's element 0 but ${Array.isArray(x) ? `an array of ${x.length}` : describe(x)} in element ${i}`);
      }
    });
    return first.map((_, k) => batchElements(items.map((x) => (x as unknown[])[k]), `${path}[${k}]`, depth + 1));
  }
  if (depth <= MAX_DEPTH && isPlainObject(first)) {
    const keys = Object.keys(first);
    items.forEach((x, i) => {
      if (!isPlainObject(x) || Object.keys(x).length !== keys.length || keys.some((k) => !(k in x))) {
        throw new ArgumentError('batch', `${path} has keys {${keys.join(', ')}} in the batch's element 0 but ${isPlainObject(x) ? `{${Object.keys(x).join(', ')}}` : describe(x)} in element ${i}`);
      }
    });
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = batchElements(items.map((x) => (x as Record<string, unknown>)[k]), `${path}.${k}`, depth + 1);
    return out;
  }
  return items.slice();
}

function describe(x: unknown): string {
  if (x instanceof Tensor) return `a tensor ${fmtShape(x.shape)}`;
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return `a ${typeof x}`;
}
