import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError } from '@tessera/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { goldenCases, goldenDir, loadGolden, worstMismatch, type GoldenCase } from '../src/golden.js';
import { fromHostArray, serializeSafetensors, type SafeTensor } from '../src/safetensors.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'tessera-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh folder under the temporary one. */
function folder(...parts: string[]): string {
  const dir = path.join(tmp, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function f64(values: number[], shape: number[]): SafeTensor {
  return { dtype: 'F64', shape, data: new Uint8Array(new Float64Array(values).buffer) };
}

function gcase(id: string, kind: string, tensors: Partial<Pick<GoldenCase, 'inputs' | 'outputs'>> = {}): GoldenCase {
  return { id, kind, attrs: {}, inputs: tensors.inputs ?? [], params: [], outputs: tensors.outputs ?? [], grads: {}, upstream: null };
}

/** Writes `<name>.json` naming `<name>.safetensors`, and the safetensors file (unless `bytes` is null). */
function writeGolden(dir: string, name: string, cases: GoldenCase[], bytes: Uint8Array | null): void {
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ file: `${name}.safetensors`, set: 'test', format_version: 1, cases }));
  if (bytes) writeFileSync(path.join(dir, `${name}.safetensors`), bytes);
}

describe('goldenDir', () => {
  const saved = process.env.TESSERA_GOLDEN_DIR;
  afterEach(() => {
    vi.restoreAllMocks();
    if (saved === undefined) delete process.env.TESSERA_GOLDEN_DIR;
    else process.env.TESSERA_GOLDEN_DIR = saved;
  });

  it('is $TESSERA_GOLDEN_DIR when set', () => {
    process.env.TESSERA_GOLDEN_DIR = '/somewhere/golden';
    expect(goldenDir()).toBe('/somewhere/golden');
  });

  it('is <first folder above cwd with pnpm-workspace.yaml>/../shared/golden, even when missing', () => {
    delete process.env.TESSERA_GOLDEN_DIR;
    const root = folder('ws', 'repo');
    writeFileSync(path.join(root, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
    const deep = folder('ws', 'repo', 'packages', 'pkg', 'test');
    vi.spyOn(process, 'cwd').mockReturnValue(deep);
    expect(goldenDir()).toBe(path.join(tmp, 'ws', 'shared', 'golden'));
    vi.spyOn(process, 'cwd').mockReturnValue(root);
    expect(goldenDir()).toBe(path.join(tmp, 'ws', 'shared', 'golden'));
  });

  it('takes cwd as the root when no folder above it is a workspace', () => {
    delete process.env.TESSERA_GOLDEN_DIR;
    const lone = folder('lone', 'here');
    vi.spyOn(process, 'cwd').mockReturnValue(lone);
    expect(goldenDir()).toBe(path.join(tmp, 'lone', 'shared', 'golden'));
  });

  it('finds this repository: <repo root>/../shared/golden', () => {
    delete process.env.TESSERA_GOLDEN_DIR;
    const repoRoot = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
    expect(goldenDir()).toBe(path.resolve(repoRoot, '../shared/golden'));
  });
});

describe('loadGolden', () => {
  const dir = folder('load');
  const third = Math.fround(1 / 3);
  writeGolden(
    dir,
    'small',
    [gcase('c1', 'loss', { inputs: ['c1/x', 'c1/labels'], outputs: ['c1/y'] })],
    serializeSafetensors(
      {
        'c1/y': f64([0.1, Math.PI, -1e-300, 1 / 3], [2, 2]),
        'c1/x': fromHostArray(new Float32Array([third, -2.5, 1e-20]), [3], 'float32'),
        'c1/labels': fromHostArray(new Int32Array([7, -1, 2 ** 31 - 1]), [3], 'int32'),
      },
      { generator: 'test' },
    ),
  );

  it('reads the manifest and every tensor, F64 exactly (not narrowed to float32)', () => {
    const g = loadGolden('small', dir)!;
    expect(g.manifest.file).toBe('small.safetensors');
    expect(g.manifest.set).toBe('test');
    expect(g.manifest.cases.map((c) => c.id)).toEqual(['c1']);
    expect([...g.tensors.keys()].sort()).toEqual(['c1/labels', 'c1/x', 'c1/y']);
    const y = g.tensors.get('c1/y')!;
    expect(y.dtype).toBe('F64');
    expect(y.shape).toEqual([2, 2]);
    expect(y.data).toBeInstanceOf(Float64Array);
    expect(Array.from(y.data)).toEqual([0.1, Math.PI, -1e-300, 1 / 3]);
    expect(g.tensors.get('c1/x')).toEqual({ dtype: 'F32', shape: [3], data: new Float64Array([third, -2.5, Math.fround(1e-20)]) });
    expect(g.tensors.get('c1/labels')).toEqual({ dtype: 'I32', shape: [3], data: new Float64Array([7, -1, 2 ** 31 - 1]) });
  });

  it('returns null when the manifest is missing (no golden data here)', () => {
    expect(loadGolden('nothing', dir)).toBeNull();
    expect(loadGolden('small', path.join(tmp, 'no-such-folder'))).toBeNull();
  });

  it('throws when the manifest names a missing safetensors file', () => {
    const d = folder('load-missing');
    writeGolden(d, 'orphan', [], null);
    expect(() => loadGolden('orphan', d)).toThrow(/orphan\.safetensors/);
  });

  it('rejects a malformed safetensors file with the strict parser', () => {
    const d = folder('load-bad');
    const good = serializeSafetensors({ a: f64([1, 2], [2]) });
    writeGolden(d, 'trailing', [], new Uint8Array([...good, 0, 0, 0]));
    expect(() => loadGolden('trailing', d)).toThrow(FormatError);
    expect(() => loadGolden('trailing', d)).toThrow(/trailing bytes/);
  });

  it('rejects dtypes golden data never holds', () => {
    const d = folder('load-f16');
    writeGolden(d, 'half', [], serializeSafetensors({ 'c/h': { dtype: 'F16', shape: [1], data: new Uint8Array([0, 60]) } }));
    expect(() => loadGolden('half', d)).toThrow(FormatError);
    expect(() => loadGolden('half', d)).toThrow(/"c\/h" is F16/);
  });
});

describe('goldenCases', () => {
  const dir = folder('cases');
  writeGolden(dir, 'b-second', [gcase('b1', 'loss', { outputs: ['b1/y'] }), gcase('b2', 'matmul', { outputs: ['b2/y'] })], serializeSafetensors({ 'b1/y': f64([1], []), 'b2/y': f64([2], []) }));
  writeGolden(dir, 'a-first', [gcase('a1', 'matmul', { outputs: ['a1/y'] }), gcase('a2', 'loss', { outputs: ['a2/y'] })], serializeSafetensors({ 'a1/y': f64([3], []), 'a2/y': f64([4], []) }));
  // Not manifests: skipped.
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x' }));
  writeFileSync(path.join(dir, 'notes.txt'), 'hello');
  // A manifest with none of the kinds asked for: its (broken) tensors are never read.
  writeGolden(dir, 'c-other', [gcase('c1', 'optimizer')], new Uint8Array([1, 2, 3]));

  it('collects the cases of the given kinds from every manifest, in file-name order', () => {
    const found = goldenCases(['matmul', 'loss'], dir);
    expect(found.map(({ golden, gc }) => `${golden.manifest.file}:${gc.id}`)).toEqual([
      'a-first.safetensors:a1',
      'a-first.safetensors:a2',
      'b-second.safetensors:b1',
      'b-second.safetensors:b2',
    ]);
    const a2 = found[1]!;
    expect(a2.gc.kind).toBe('loss');
    expect(Array.from(a2.golden.tensors.get(a2.gc.outputs[0]!)!.data)).toEqual([4]);
    expect(found[0]!.golden).toBe(a2.golden); // one load per file
  });

  it('filters by kind', () => {
    expect(goldenCases(['loss'], dir).map(({ gc }) => gc.id)).toEqual(['a2', 'b1']);
    expect(goldenCases(['dense'], dir)).toEqual([]);
  });

  it('reads a manifest with matching cases strictly', () => {
    expect(() => goldenCases(['optimizer'], dir)).toThrow(FormatError);
  });

  it('is empty when the folder does not exist', () => {
    expect(goldenCases(['loss'], path.join(tmp, 'absent'))).toEqual([]);
  });

  it('finds the real golden data (TESSERA_GOLDEN_DIR, default ../shared/golden)', () => {
    const losses = goldenCases(['loss']);
    expect(losses.length).toBeGreaterThanOrEqual(15);
    for (const { golden, gc } of losses) {
      for (const name of [...gc.inputs, ...gc.outputs, ...Object.values(gc.grads)]) expect(golden.tensors.has(name), `${gc.id} names ${name}`).toBe(true);
    }
    const raw = readFileSync(path.join(goldenDir(), 'losses.json'), 'utf8');
    expect(losses.map(({ gc }) => gc.id)).toEqual((JSON.parse(raw) as { cases: GoldenCase[] }).cases.map((c) => c.id));
  });
});

describe('worstMismatch', () => {
  it('is <= 0 within atol + rtol |want| and reports the worst element', () => {
    const w = worstMismatch([1, 2.05, 3], [1, 2, 3.0001], 1e-3, 1e-2);
    expect(w.index).toBe(1);
    expect(w.got).toBe(2.05);
    expect(w.want).toBe(2);
    expect(w.excess).toBeCloseTo(0.05 - (1e-2 + 2e-3), 12);
    expect(worstMismatch([1, 2.01, 3], [1, 2, 3], 1e-3, 1e-2).excess).toBeLessThanOrEqual(0);
  });

  it('scales the tolerance with |want|', () => {
    expect(worstMismatch([1000.5], [1000], 1e-3, 0).excess).toBeLessThanOrEqual(0);
    expect(worstMismatch([1.5], [1], 1e-3, 0).excess).toBeGreaterThan(0);
    expect(worstMismatch([-1000.5], [-1000], 1e-3, 0).excess).toBeLessThanOrEqual(0);
  });

  it('reports the first of equal worst elements', () => {
    expect(worstMismatch([2, 0, 2], [0, 0, 0], 0, 0).index).toBe(0);
  });

  it('gives excess Infinity and both lengths when the lengths differ', () => {
    expect(worstMismatch([1, 2], [1, 2, 3], 1, 1)).toEqual({ excess: Infinity, index: -1, got: 2, want: 3 });
  });

  it('is -Infinity at index -1 for empty arrays', () => {
    expect(worstMismatch([], new Float64Array(0), 0, 0)).toEqual({ excess: -Infinity, index: -1, got: NaN, want: NaN });
  });

  it('matches NaN only with NaN', () => {
    expect(worstMismatch([NaN, 1], [NaN, 1], 0, 0).excess).toBeLessThanOrEqual(0);
    expect(worstMismatch([1, NaN], [1, 1], 1, 1)).toEqual({ excess: Infinity, index: 1, got: NaN, want: 1 });
    expect(worstMismatch([1, 1], [1, NaN], 1, 1)).toEqual({ excess: Infinity, index: 1, got: 1, want: NaN });
  });

  it('matches an infinity only with the same infinity', () => {
    expect(worstMismatch([Infinity, -Infinity], [Infinity, -Infinity], 1e-4, 1e-5).excess).toBeLessThanOrEqual(0);
    expect(worstMismatch([Infinity], [Infinity], 0, 0).excess).toBeLessThanOrEqual(0);
    expect(worstMismatch([Infinity], [-Infinity], 1e-4, 1e-5).excess).toBe(Infinity);
    expect(worstMismatch([1e30], [Infinity], 1e-4, 1e-5).excess).toBe(Infinity);
    expect(worstMismatch([Infinity], [1e30], 1e-4, 1e-5).excess).toBe(Infinity);
  });
});

describe('entry points', () => {
  const src = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../src');

  it('the main entry never statically imports golden.ts or a node: module', () => {
    // Walks the static imports from src/index.ts (dynamic `import()` of node modules is fine).
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(path.join(src, file), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)) {
        const spec = m[1]!;
        expect(spec.startsWith('node:'), `${file} imports ${spec}`).toBe(false);
        // Relative to the importing file (tokenizers/index.ts imports ./base.js from its own folder).
        if (spec.startsWith('.')) visit(path.join(path.dirname(file), spec).replace(/\.js$/, '.ts'));
      }
    };
    visit('index.ts');
    expect(seen.has('safetensors.ts')).toBe(true);
    expect(seen.has('golden.ts')).toBe(false);
  });
});
