/**
 * Expands the op database into cases ({@link listCases}) and materialises one case's data
 * and float64 reference ({@link buildCase}). Everything here is host-only: no backend, no
 * core runtime.
 * @module
 */
import type { DType } from '@tessera/core';
import { defaultDomain } from './domains.js';
import {
  broadcastTo, extract, flip, host, invertPerm, place, sizeOf, toDType, transpose,
  type HostTensor,
} from './host.js';
import type { KernelName } from './kernels.js';
import { kernelOf } from './kernels.js';
import { ALL_SPECS } from './opdb/index.js';
import { Rng } from './rng.js';
import type { CaseInfo, InputDef, OpSpec, Tag, ViewRecipe } from './types.js';

/** Options of {@link listCases}. */
export interface ListOptions {
  /** Keep only ids matching this. */
  filter?: RegExp;
  /** Use these specs instead of the built-in database. */
  specs?: readonly OpSpec[];
}

/**
 * Every case of the database (or of `specs`), in a stable order, with ids
 * `op/dtype/label` (`op/error/label` for error cases). Cheap: no data is generated.
 * @example
 * const cases = listCases({ filter: /^matmul\// });
 * cases[0].id; // 'matmul/float32/...'
 */
export function listCases(opts: ListOptions = {}): CaseInfo[] {
  const out: CaseInfo[] = [];
  const seen = new Set<string>();
  for (const spec of opts.specs ?? ALL_SPECS) {
    const push = (dtype: DType | 'error', def: CaseInfo['def']): void => {
      const id = `${spec.name}/${dtype}/${def.label}`;
      if (seen.has(id)) throw new Error(`conformance: duplicate case id ${id}`);
      seen.add(id);
      if (opts.filter && !opts.filter.test(id)) return;
      const tags: Tag[] = [...(def.tags ?? [])];
      if (def.error && !tags.includes('error')) tags.push('error');
      out.push({ id, spec, family: spec.family, dtype, def, tags, kernels: def.kernels ?? spec.kernels });
    };
    for (const dtype of spec.dtypes) for (const def of spec.cases(dtype)) push(dtype, def);
    for (const def of spec.errors ?? []) push('error', def);
  }
  return out;
}

/**
 * Case counts per kernel (required and fused) over a case list.
 * @example
 * casesPerKernel(listCases()).matmul; // e.g. 40
 */
export function casesPerKernel(cases: readonly CaseInfo[]): Record<KernelName, number> {
  const counts = {} as Record<KernelName, number>;
  for (const c of cases) {
    if (c.def.error) continue;
    for (const k of new Set(c.kernels.map(kernelOf))) counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/** One input ready to upload: the base values and the view recipe that yields the logical tensor. */
export interface BuiltInput {
  /** The logical values the op sees. */
  readonly logical: HostTensor;
  /** What to upload; core's view ops turn it into `logical` (`base === logical` without a view). */
  readonly base: HostTensor;
  readonly view?: ViewRecipe;
  readonly disposed?: boolean;
}

/** A materialised case: inputs and the float64 reference outputs (null for checked-only or error cases). */
export interface BuiltCase {
  readonly inputs: readonly BuiltInput[];
  readonly expected: readonly HostTensor[] | null;
}

/**
 * Generates a case's inputs (seeded by the case id, so always the same) and its reference.
 * @example
 * const [c] = listCases({ filter: /^add\/float32\/same/ });
 * buildCase(c).expected![0].shape; // [3, 4]
 */
export function buildCase(c: CaseInfo): BuiltCase {
  const inputs = c.def.inputs.map((d, i) => buildInput(c, d, i));
  if (c.def.error || !c.spec.ref64) return { inputs, expected: null };
  const r = c.spec.ref64(inputs.map((x) => x.logical), c.def.attrs ?? {});
  return { inputs, expected: Array.isArray(r) ? r : [r] };
}

/** A fill value that stands out if a backend reads outside a view. */
function garbage(dtype: DType): number {
  return dtype === 'float32' ? NaN : dtype === 'int32' ? -559038737 : 1;
}

function buildInput(c: CaseInfo, d: InputDef, i: number): BuiltInput {
  const rng = new Rng(`${c.id}#${i}`);
  const u = () => rng.float();
  const domain = d.domain ?? c.spec.domain?.(d.dtype, i) ?? defaultDomain(d.dtype);
  const draw = (shape: readonly number[]): HostTensor => {
    const n = sizeOf(shape);
    const vals = d.values
      ? d.values.map((v) => toDType(v, d.dtype))
      : Array.from({ length: n }, () => toDType(domain.sample(u), d.dtype));
    return host(d.dtype, shape, vals);
  };
  const v = d.view;
  if (!v) {
    const t = draw(d.shape);
    return { logical: t, base: t, disposed: d.disposed };
  }
  if (v.kind === 'broadcast') {
    const base = draw(v.from);
    return { logical: broadcastTo(base, d.shape), base, view: v };
  }
  const logical = draw(d.shape);
  return { logical, base: baseFor(logical, v), view: v };
}

/**
 * The buffer contents that core's view op turns into `logical`.
 * @example
 * baseFor(host('float32', [2], [1, 2]), { kind: 'flip', axes: [0] }).data; // [2, 1]
 */
export function baseFor(logical: HostTensor, v: ViewRecipe): HostTensor {
  const { dtype, shape } = logical;
  switch (v.kind) {
    case 'transpose':
      return transpose(logical, invertPerm(v.perm));
    case 'flip':
      return flip(logical, v.axes);
    case 'step': {
      const bshape = shape.map((n) => n * v.step + 1);
      const base = host(dtype, bshape, new Float64Array(sizeOf(bshape)).fill(garbage(dtype)));
      place(base, logical, shape.map(() => 1), shape.map(() => v.step));
      return base;
    }
    case 'offset': {
      const bshape = [shape[0] + 2, ...shape.slice(1)];
      const base = host(dtype, bshape, new Float64Array(sizeOf(bshape)).fill(garbage(dtype)));
      place(base, logical, bshape.map((_, k) => (k === 0 ? 1 : 0)));
      return base;
    }
    case 'broadcast':
      return extract(logical, shape.map(() => 0), v.from);
  }
}
