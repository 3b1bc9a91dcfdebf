/**
 * A small safetensors reader and manifest loader for the golden data in `../shared/golden`
 * (a full reader lives in @tessera/nn). Layout: u64 header length N, N bytes of JSON, data.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HostArray {
  dtype: 'F32' | 'F64' | 'I32';
  shape: number[];
  /** Values as float64 (exact for F32 and I32). */
  data: Float64Array;
}

export interface GoldenCase {
  id: string;
  kind: string;
  seed?: number;
  attrs: Record<string, unknown>;
  inputs: string[];
  params?: string[];
  outputs: string[];
  grads?: Record<string, string> | null;
  upstream?: string | null;
}

export interface Golden {
  manifest: { file: string; cases: GoldenCase[] };
  tensors: Map<string, HostArray>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root (packages/<pkg>/test/helpers → four levels up). */
const repoRoot = path.resolve(here, '../../../..');

/** `$TESSERA_GOLDEN_DIR`, or `<repo root>/../shared/golden`. */
export const GOLDEN_DIR = process.env.TESSERA_GOLDEN_DIR ?? path.resolve(repoRoot, '../shared/golden');

/** Parses a safetensors file into host arrays, checking the layout as it goes. */
export function readSafetensors(bytes: Uint8Array): Map<string, HostArray> {
  if (bytes.length < 8) throw new Error(`safetensors: file is ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`safetensors: header length ${n} exceeds the file`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const base = 8 + n;
  const out = new Map<string, HostArray>();
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const count = shape.reduce((a, b) => a * b, 1);
    const size = dtype === 'F64' ? 8 : 4;
    const [b, e] = data_offsets;
    if (e - b !== count * size || base + e > bytes.length) throw new Error(`safetensors: bad offsets for ${name}`);
    const data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const off = base + b + i * size;
      if (dtype === 'F64') data[i] = dv.getFloat64(off, true);
      else if (dtype === 'F32') data[i] = dv.getFloat32(off, true);
      else if (dtype === 'I32') data[i] = dv.getInt32(off, true);
      else throw new Error(`safetensors: unsupported dtype ${dtype} (${name})`);
    }
    out.set(name, { dtype: dtype as HostArray['dtype'], shape, data });
  }
  return out;
}

/** Loads `<name>.json` and its safetensors file, or undefined when the golden dir is absent. */
export function loadGolden(name: string): Golden | undefined {
  const json = path.join(GOLDEN_DIR, `${name}.json`);
  if (!existsSync(json)) return undefined;
  const manifest = JSON.parse(readFileSync(json, 'utf8')) as Golden['manifest'];
  const tensors = readSafetensors(new Uint8Array(readFileSync(path.join(GOLDEN_DIR, manifest.file))));
  return { manifest, tensors };
}

/** The largest violation of |got - want| <= atol + rtol |want| (<= 0 means within tolerance), and where. */
export function worst(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): { excess: number; index: number; got: number; want: number } {
  let r = { excess: -Infinity, index: -1, got: NaN, want: NaN };
  if (got.length !== want.length) return { excess: Infinity, index: -1, got: got.length, want: want.length };
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const e = Number.isNaN(g) || Number.isNaN(w) ? (Number.isNaN(g) && Number.isNaN(w) ? -1 : Infinity) : Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (e > r.excess) r = { excess: e, index: i, got: g, want: w };
  }
  return r;
}

/**
 * Every manifest in the golden directory (each `*.json` that names a safetensors file), so a
 * new golden file is replayed without new code. Empty when the directory is absent.
 */
export function loadAllGolden(): Golden[] {
  if (!existsSync(GOLDEN_DIR)) return [];
  const out: Golden[] = [];
  for (const f of readdirSync(GOLDEN_DIR).sort()) {
    if (!f.endsWith('.json')) continue;
    const manifest = JSON.parse(readFileSync(path.join(GOLDEN_DIR, f), 'utf8')) as Golden['manifest'];
    if (typeof manifest.file !== 'string' || !Array.isArray(manifest.cases)) continue;
    const g = loadGolden(f.slice(0, -5));
    if (g) out.push(g);
  }
  return out;
}

/** The cases of the given kinds across every golden file, with the file each comes from. */
export function goldenCases(kinds: readonly string[]): { golden: Golden; gc: GoldenCase }[] {
  return loadAllGolden().flatMap((golden) => golden.manifest.cases.filter((gc) => kinds.includes(gc.kind)).map((gc) => ({ golden, gc })));
}
