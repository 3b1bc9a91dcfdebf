/**
 * The golden reference data in `../shared/golden` (expected values computed with PyTorch in
 * float64): each `<name>.json` manifest lists test cases and names the safetensors file
 * holding their tensors. This module finds the folder, reads manifests and tensors through
 * the strict {@link parseSafetensors}, and compares results against the expected values.
 *
 * Node only (it reads files): exported from `@tessera/data/golden`, never from the main
 * entry, so browser bundles of `@tessera/data` do not pull in `node:fs`.
 * @example
 * import { goldenCases, worstMismatch } from '@tessera/data/golden';
 * for (const { golden, gc } of goldenCases(['loss'])) {
 *   const want = golden.tensors.get(gc.outputs[0]!)!;
 *   const w = worstMismatch(got, want.data, 1e-4, 1e-5); // w.excess <= 0: within tolerance
 * }
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FormatError } from '@tessera/core';
import { parseSafetensors, type SafeTensor, toHostArray } from './safetensors.js';

/** One stored tensor, its values widened to float64 (exact for every stored dtype). */
export interface GoldenTensor {
  dtype: 'F32' | 'F64' | 'I32';
  shape: number[];
  /** Values in row-major order: F64 as stored, F32 and I32 converted exactly. */
  data: Float64Array;
}

/** One case of a manifest (see the golden README for the roles of each kind). */
export interface GoldenCase {
  id: string;
  kind: string;
  /** The torch seed the case was drawn with; for information only. */
  seed?: number;
  /** Hyper-parameters and conventions of the case. */
  attrs: Record<string, unknown>;
  inputs: string[];
  params: string[];
  outputs: string[];
  /** Input/param tensor name → the name of its expected gradient. */
  grads: Record<string, string>;
  /** The upstream gradient of the first output, or null when that output is a scalar. */
  upstream: string | null;
}

/** A manifest (`<name>.json`): the safetensors file it describes and its cases. */
export interface GoldenManifest {
  file: string;
  cases: GoldenCase[];
  [key: string]: unknown;
}

/** A golden file: its manifest and every tensor of its safetensors file, by name. */
export interface Golden {
  manifest: GoldenManifest;
  tensors: Map<string, GoldenTensor>;
}

/** How far a result is from the expected values: see {@link worstMismatch}. */
export interface Mismatch {
  /** The largest `|got - want| - (atol + rtol |want|)`; `<= 0` means within tolerance. */
  excess: number;
  /** Where that is (-1 when nothing was compared or the lengths differ). */
  index: number;
  /** The value there (the length of `got` when the lengths differ). */
  got: number;
  /** The expected value there (the length of `want` when the lengths differ). */
  want: number;
}

/**
 * The golden folder: `$TESSERA_GOLDEN_DIR`, else `<repo root>/../shared/golden`, where the
 * repository root is the first folder at or above `process.cwd()` that holds
 * `pnpm-workspace.yaml` (`process.cwd()` itself when there is none). The folder need not
 * exist; {@link loadGolden} and {@link goldenCases} then find nothing.
 * @example
 * goldenDir(); // '/work/shared/golden' when run anywhere inside /work/main
 */
export function goldenDir(): string {
  const fromEnv = process.env.TESSERA_GOLDEN_DIR;
  if (fromEnv !== undefined) return fromEnv;
  const start = path.resolve(process.cwd());
  let root = start;
  while (!existsSync(path.join(root, 'pnpm-workspace.yaml'))) {
    const up = path.dirname(root);
    if (up === root) {
      root = start;
      break;
    }
    root = up;
  }
  return path.resolve(root, '../shared/golden');
}

/** Values of a stored tensor as float64, exactly (F64 is not narrowed, unlike {@link toHostArray}). */
function toGoldenTensor(name: string, t: SafeTensor): GoldenTensor {
  if (t.dtype === 'F64') {
    const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const data = new Float64Array(t.data.length / 8);
    for (let i = 0; i < data.length; i++) data[i] = dv.getFloat64(8 * i, true);
    return { dtype: 'F64', shape: t.shape, data };
  }
  if (t.dtype === 'F32' || t.dtype === 'I32') return { dtype: t.dtype, shape: t.shape, data: Float64Array.from(toHostArray(t).data) };
  throw new FormatError('loadGolden', `tensor ${JSON.stringify(name)} is ${t.dtype}; golden data holds only F32, F64 and I32`);
}

/**
 * Loads the manifest `<dir>/<name>.json` and the safetensors file it names. Null when the
 * manifest does not exist (no golden data here); an error when it names a file that is
 * missing or malformed.
 * @example
 * const golden = loadGolden('layers');
 * golden?.manifest.cases.length; // 50
 */
export function loadGolden(name: string, dir: string = goldenDir()): Golden | null {
  const json = path.join(dir, `${name}.json`);
  if (!existsSync(json)) return null;
  const manifest = JSON.parse(readFileSync(json, 'utf8')) as GoldenManifest;
  const file = parseSafetensors(new Uint8Array(readFileSync(path.join(dir, manifest.file))));
  const tensors = new Map<string, GoldenTensor>();
  for (const [k, t] of file.tensors) tensors.set(k, toGoldenTensor(k, t));
  return { manifest, tensors };
}

/**
 * The cases of the given kinds across every manifest in `dir` (each `*.json` with a `file`
 * and a `cases` array, in name order), each with the golden file it comes from, so a new
 * golden file is picked up without new code. Only files with such cases are loaded. Empty
 * when the folder does not exist.
 * @example
 * for (const { golden, gc } of goldenCases(['optimizer'])) console.log(golden.manifest.file, gc.id);
 */
export function goldenCases(kinds: readonly string[], dir: string = goldenDir()): { golden: Golden; gc: GoldenCase }[] {
  if (!existsSync(dir)) return [];
  const out: { golden: Golden; gc: GoldenCase }[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    const manifest = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Partial<GoldenManifest>;
    if (typeof manifest.file !== 'string' || !Array.isArray(manifest.cases)) continue;
    if (!manifest.cases.some((gc) => kinds.includes(gc.kind))) continue;
    const golden = loadGolden(f.slice(0, -'.json'.length), dir)!;
    for (const gc of golden.manifest.cases) if (kinds.includes(gc.kind)) out.push({ golden, gc });
  }
  return out;
}

/**
 * The largest violation of `|got - want| <= atol + rtol |want|` and where it is: `excess <= 0`
 * means every element is within tolerance. NaN matches only NaN, and an infinity only the
 * same infinity; a length mismatch gives `excess: Infinity` with the two lengths.
 * @example
 * const w = worstMismatch(y.dataSync(), want.data, 1e-4, 1e-5);
 * expect(w.excess, `element ${w.index} is ${w.got}, expected ${w.want}`).toBeLessThanOrEqual(0);
 */
export function worstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): Mismatch {
  if (got.length !== want.length) return { excess: Infinity, index: -1, got: got.length, want: want.length };
  let r: Mismatch = { excess: -Infinity, index: -1, got: NaN, want: NaN };
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    let e: number;
    if (Number.isNaN(g) || Number.isNaN(w)) e = Number.isNaN(g) && Number.isNaN(w) ? -1 : Infinity;
    else {
      e = Math.abs(g - w) - (atol + rtol * Math.abs(w));
      // NaN here comes from infinities: a match when both are the same infinity, else a miss.
      if (Number.isNaN(e)) e = g === w ? -1 : Infinity;
    }
    if (e > r.excess) r = { excess: e, index: i, got: g, want: w };
  }
  return r;
}
