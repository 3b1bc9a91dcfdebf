/**
 * Scoped and explicit memory management, and the live-memory report.
 * @module
 */
import { countsFor, engine } from './engine.js';
import { ArgumentError } from './errors.js';
import { Tensor } from './tensor.js';

/** Anything that may hold tensors: a tensor, arrays and plain objects of them. */
export type TensorContainer = Tensor | null | undefined | void | number | string | boolean | TensorContainer[] | { [key: string]: TensorContainer };

function collect(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth > 32 || value === null || typeof value !== 'object') return;
  else if (Array.isArray(value)) for (const v of value) collect(v, into, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, depth + 1);
  } else if (value instanceof Map) for (const v of value.values()) collect(v, into, depth + 1);
}

function closeScope(scope: Tensor[], result: unknown): void {
  const keepSet = new Set<Tensor>();
  collect(result, keepSet);
  const parent = engine.scopes.length > 0 ? engine.scopes[engine.scopes.length - 1] : undefined;
  for (const t of scope) {
    if (t.disposed || t.kept) continue;
    if (!keepSet.has(t)) t.dispose();
    else if (parent) parent.push(t);
    else t.guard();
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (tensors in
 * returned arrays and plain objects count) and those passed to `keep`. Returned tensors
 * belong to the enclosing scope, if any.
 * @example
 * const y = tidy(() => add(mul(x, 2), 1)); // the intermediate mul(x, 2) is freed
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ArgumentError('tidy', `expected a function, got ${typeof fn}`);
  const scope: Tensor[] = [];
  engine.scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    engine.scopes.pop();
    closeScope(scope, undefined);
    throw e;
  }
  engine.scopes.pop();
  if (result instanceof Promise) {
    closeScope(scope, undefined);
    throw new ArgumentError('tidy', 'fn returned a Promise; use tidyAsync for async functions');
  }
  closeScope(scope, result);
  return result;
}

/**
 * `tidy` for async functions: tensors created between the call and the settling of the
 * promise are freed unless returned or kept. Scopes are a stack, so do not interleave two
 * `tidyAsync` calls that run concurrently (tensors of one would be attributed to the other).
 * @example
 * const loss = await tidyAsync(async () => { const l = f(x); await l.data(); return l; });
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope: Tensor[] = [];
  engine.scopes.push(scope);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    removeScope(scope);
    closeScope(scope, undefined);
    throw e;
  }
  removeScope(scope);
  closeScope(scope, result);
  return result;
}

function removeScope(scope: Tensor[]): void {
  const i = engine.scopes.lastIndexOf(scope);
  if (i >= 0) engine.scopes.splice(i, 1);
}

/**
 * Protects a tensor from the tidy scopes it was created in; dispose it yourself later.
 * @example let w; tidy(() => { w = keep(randomNormal([3, 3])); });
 */
export function keep<T extends Tensor>(x: T): T {
  x.kept = true;
  x.guard();
  return x;
}

/**
 * Disposes a tensor, or every tensor in an array or plain object (nested).
 * @example dispose([a, b, { c }]);
 */
export function dispose(container: TensorContainer | object): void {
  const set = new Set<Tensor>();
  collect(container, set);
  for (const t of set) t.dispose();
}

/** Per-backend figures in {@link memory}. */
export interface BackendMemory {
  numTensors: number;
  liveBuffers: number;
  liveBytes: number;
  pooledBytes: number;
}

/** What {@link memory} reports. */
export interface MemoryInfo {
  /** Live (undisposed) tensor handles on every backend. */
  numTensors: number;
  /** Bytes of live storage on every backend (views share storage, so this is not per tensor). */
  numBytes: number;
  backends: Record<string, BackendMemory>;
}

/**
 * Live tensors and storage, in total and per backend. Training code should leave both flat.
 * @example const before = memory().numTensors; train(); assert(memory().numTensors === before);
 */
export function memory(): MemoryInfo {
  const info: MemoryInfo = { numTensors: 0, numBytes: 0, backends: {} };
  for (const [backend, counts] of engine.counts) {
    const s = backend.storage.stats();
    const key = info.backends[backend.name] ? `${backend.name}#${Object.keys(info.backends).length}` : backend.name;
    info.backends[key] = { numTensors: counts.tensors, ...s };
    info.numTensors += counts.tensors;
    info.numBytes += s.liveBytes;
  }
  if (engine.backend && !engine.counts.has(engine.backend)) countsFor(engine.backend);
  return info;
}
