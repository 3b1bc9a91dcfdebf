/**
 * Loads the golden reference data (`$TESSERA_GOLDEN_DIR`, default `<repo root>/../shared/golden`)
 * through nn's own safetensors parser; values come back as float64 (exact for F32 and I32).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor, type Tensor } from '@tessera/core';
import { parseSafetensors } from '../src/index.js';

export interface GoldenCase {
  id: string;
  kind: string;
  attrs: Record<string, unknown>;
  inputs: string[];
  params: string[];
  outputs: string[];
  grads: Record<string, string>;
  upstream: string | null;
}

export interface HostTensor {
  dtype: 'F32' | 'F64' | 'I32';
  shape: number[];
  data: Float64Array;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
export const GOLDEN_DIR = process.env.TESSERA_GOLDEN_DIR ?? path.resolve(repoRoot, '../shared/golden');

export function loadGolden(name: string): { cases: GoldenCase[]; tensors: Map<string, HostTensor> } | null {
  const json = path.join(GOLDEN_DIR, `${name}.json`);
  if (!existsSync(json)) return null;
  const manifest = JSON.parse(readFileSync(json, 'utf8')) as { file: string; cases: GoldenCase[] };
  const file = parseSafetensors(new Uint8Array(readFileSync(path.join(GOLDEN_DIR, manifest.file))));
  const tensors = new Map<string, HostTensor>();
  for (const [k, t] of file.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (t.dtype === 'F64') data[i] = dv.getFloat64(i * 8, true);
      else if (t.dtype === 'F32') data[i] = dv.getFloat32(i * 4, true);
      else if (t.dtype === 'I32') data[i] = dv.getInt32(i * 4, true);
      else throw new Error(`golden: unexpected dtype ${t.dtype} for ${k}`);
    }
    tensors.set(k, { dtype: t.dtype as HostTensor['dtype'], shape: t.shape, data });
  }
  return { cases: manifest.cases, tensors };
}

/** A tensor from a stored input (F32 → float32, I32 → int32). */
export function toTensor(h: HostTensor): Tensor {
  return h.dtype === 'I32' ? tensor(Int32Array.from(h.data), h.shape, 'int32') : tensor(Float32Array.from(h.data), h.shape);
}

/** Checks |got - want| <= atol + rtol |want| everywhere; returns a message for the worst violation or null. */
export function compare(what: string, got: ArrayLike<number>, gotShape: readonly number[], want: HostTensor, rtol: number, atol: number): string | null {
  if (gotShape.length !== want.shape.length || gotShape.some((d, i) => d !== want.shape[i])) return `${what}: shape [${gotShape.join(',')}] vs expected [${want.shape.join(',')}]`;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.data.length; i++) {
    const w = want.data[i]!;
    const g = got[i]!;
    const excess = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (!(excess <= worst) || Number.isNaN(g)) {
      worst = Number.isNaN(g) ? Infinity : excess;
      at = i;
    }
  }
  return at < 0 ? null : `${what}: element ${at} is ${got[at]} but expected ${want.data[at]} (rtol ${rtol}, atol ${atol})`;
}
