import { describe, expect, it } from 'vitest';
import { buildCase, casesPerKernel, listCases } from '../src/cases.js';
import { broadcastTo, extract, flip, transpose, type HostTensor } from '../src/host.js';
import { ALL_OP_CODES, FUSED_KERNELS, REQUIRED_KERNELS } from '../src/kernels.js';
import { ALL_SPECS } from '../src/opdb/index.js';
import type { Tag, ViewRecipe } from '../src/types.js';

const cases = listCases();
const builtCache = new Map<string, ReturnType<typeof buildCase>>();
/** Each case built once for the whole file. */
const built = (c: (typeof cases)[number]) => {
  let b = builtCache.get(c.id);
  if (!b) builtCache.set(c.id, (b = buildCase(c)));
  return b;
};
/** Same values bit for bit (NaN equal to NaN). */
const same = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const values = (cs: typeof cases) => cs.filter((c) => !c.def.error);

/** What core's view op makes of `base` under a recipe, computed on the host. */
function applyView(base: HostTensor, v: ViewRecipe, shape: readonly number[]): HostTensor {
  switch (v.kind) {
    case 'transpose': return transpose(base, v.perm);
    case 'flip': return flip(base, v.axes);
    case 'broadcast': return broadcastTo(base, shape);
    case 'step': return extract(base, shape.map(() => 1), shape, shape.map(() => v.step));
    case 'offset': return extract(base, shape.map((_, i) => (i === 0 ? 1 : 0)), shape);
  }
}

describe('the case generator', () => {
  it('has at least 400 cases, with unique ids', () => {
    expect(cases.length).toBeGreaterThanOrEqual(400);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it('is deterministic: same ids and bit-identical data and references', () => {
    const again = listCases();
    expect(again.map((c) => c.id)).toEqual(cases.map((c) => c.id));
    for (const c of cases.filter((_, i) => i % 7 === 0)) {
      const a = built(c);
      const b = buildCase(again.find((x) => x.id === c.id)!);
      a.inputs.forEach((x, i) => expect(same(x.base.data, b.inputs[i].base.data), c.id).toBe(true));
      a.expected?.forEach((x, i) => expect(same(x.data, b.expected![i].data), c.id).toBe(true));
    }
  }, 60_000);

  it('reaches every required and fused kernel', () => {
    const per = casesPerKernel(cases);
    for (const k of [...REQUIRED_KERNELS, ...FUSED_KERNELS]) expect(per[k] ?? 0, k).toBeGreaterThan(0);
  });

  it('reaches every unary, binary, compare, reduce and arg-reduce op code', () => {
    const reached = new Set(values(cases).flatMap((c) => c.kernels));
    for (const code of ALL_OP_CODES) expect(reached.has(code), code).toBe(true);
  });

  it('covers every shape class and special value the design asks for', () => {
    const tags = new Set<Tag>(cases.flatMap((c) => c.tags));
    const wanted: Tag[] = [
      'scalar', 'size0', 'size1', 'broadcast', 'rank-mismatch', 'number-operand', 'view:transpose', 'view:step',
      'view:flip', 'view:broadcast', 'view:offset', 'odd', 'large', 'special', 'denormal', 'neg-axis', 'keepdims',
      'multi-axis', 'ties', 'int-overflow', 'div-zero', 'error', 'bit-exact',
    ];
    for (const t of wanted) expect(tags.has(t), t).toBe(true);
    const dtypes = new Set(cases.map((c) => c.dtype));
    for (const d of ['float32', 'int32', 'bool', 'error']) expect(dtypes.has(d as never), d).toBe(true);
  });

  it('has the matmul sizes that miss and cross every tile, and 100k-element element-wise cases', () => {
    const ids = cases.map((c) => c.id);
    for (const s of ['1x1x1-[1,1]x[1,1]', '17x33x65-[17,33]x[33,65]', '130x67x129-[130,67]x[67,129]']) {
      expect(ids).toContain(`matmul/float32/${s}`);
    }
    expect(ids).toContain('exp/float32/large-[100000]');
    expect(ids).toContain('add/float32/large-[100000]x[100000]');
  });

  it('covers every family with value cases and every error class with error cases', () => {
    const fams = new Set(values(cases).map((c) => c.family));
    for (const f of ['elementwise', 'compare', 'reduce', 'movement', 'matmul', 'nn', 'creation', 'random', 'indexing', 'optimizer']) {
      expect(fams.has(f as never), f).toBe(true);
    }
    const errs = new Set(cases.filter((c) => c.def.error).map((c) => c.def.error));
    for (const e of ['ShapeError', 'DTypeError', 'ArgumentError', 'IndexError', 'DisposedTensorError']) expect(errs.has(e as never), e).toBe(true);
  });

  it('gives every spec a float64 reference or a property check, and every case its inputs', () => {
    for (const s of ALL_SPECS) expect(!!s.ref64 || !!s.check, s.name).toBe(true);
    for (const c of cases) {
      const b = built(c);
      expect(b.inputs.length).toBe(c.def.inputs.length);
      if (!c.def.error && c.spec.ref64) expect(b.expected!.length, c.id).toBeGreaterThan(0);
    }
  }, 60_000);

  it('lays out view bases so that the view op yields the logical values', () => {
    let checked = 0;
    for (const c of cases) {
      for (const x of built(c).inputs) {
        if (!x.view) continue;
        const got = applyView(x.base, x.view, x.logical.shape);
        expect(got.shape).toEqual([...x.logical.shape]);
        expect(same(got.data, x.logical.data), c.id).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  }, 60_000);

  it('filters by id', () => {
    const only = listCases({ filter: /^matmul\// });
    expect(only.length).toBeGreaterThan(20);
    expect(only.every((c) => c.id.startsWith('matmul/'))).toBe(true);
  });
});
