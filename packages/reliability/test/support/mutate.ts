/**
 * Seeded mutators for the hostile-file fuzzer: byte-level damage to safetensors weights
 * (bit flips, truncation, header-length and header-JSON edits with the offsets kept
 * plausible) and structural damage to model.json (a value anywhere in the tree replaced by a
 * hostile one, keys dropped, text truncated).
 */
import { crc32 } from '@tessera/nn';

export type Rand = () => number;

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number): number => Math.floor(r() * n);

/** Values that break assumptions: wrong types, out-of-range numbers, huge sizes, prototype keys. */
export const HOSTILE: readonly unknown[] = [null, true, -1, 0, 0.5, 1.5, -0.0, 5e5, 2e6, 1e9, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, 'x', '', '__proto__', [], [null], [-1], [1e9, 1e9], {}, { __proto__: { polluted: true } }, [[[[[]]]]]];

/** Damages safetensors bytes in one of several ways (returns a new array). */
export function mutateWeights(r: Rand, bytes: Uint8Array): { kind: string; bytes: Uint8Array } {
  const b = bytes.slice();
  const dv = new DataView(b.buffer);
  const headerLen = Number(dv.getBigUint64(0, true));
  const kind = pick(r, ['flip', 'bytes', 'truncate', 'extend', 'header-length', 'header-json', 'header-json', 'header-json', 'zero-header']);
  switch (kind) {
    case 'flip': {
      for (let k = 1 + int(r, 4); k > 0; k--) b[int(r, b.length)]! ^= 1 << int(r, 8);
      return { kind, bytes: b };
    }
    case 'bytes': {
      const at = int(r, Math.min(b.length, 8 + headerLen));
      for (let k = 0; k < 1 + int(r, 16) && at + k < b.length; k++) b[at + k] = int(r, 256);
      return { kind, bytes: b };
    }
    case 'truncate':
      return { kind, bytes: b.slice(0, int(r, b.length)) };
    case 'extend': {
      const out = new Uint8Array(b.length + 1 + int(r, 64));
      out.set(b);
      return { kind, bytes: out };
    }
    case 'header-length': {
      const v = pick(r, [0n, 1n, 7n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(b.length), 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]);
      dv.setBigUint64(0, v, true);
      return { kind, bytes: b };
    }
    case 'zero-header': {
      b.fill(0, 8, 8 + headerLen);
      return { kind, bytes: b };
    }
    default: {
      // Rewrites the header JSON with one field changed, keeping the file otherwise intact.
      const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + headerLen))) as Record<string, Record<string, unknown>>;
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      const name = pick(r, names);
      const entry = header[name]!;
      const field = pick(r, ['dtype', 'shape', 'data_offsets', 'data_offsets', 'entry', 'name', 'metadata']);
      if (field === 'entry') header[name] = pick(r, HOSTILE) as Record<string, unknown>;
      else if (field === 'name') {
        header[pick(r, ['', '__proto__', 'optimizer/x/m', `${name}/extra`])] = entry;
        delete header[name];
      } else if (field === 'metadata') header.__metadata__ = pick(r, HOSTILE) as Record<string, unknown>;
      else if (field === 'dtype') entry.dtype = pick(r, ['F16', 'F64', 'I64', 'U8', 'BOOL', 'I32', 'x', 3, null]);
      else if (field === 'shape') entry.shape = pick(r, [[], [0], [-1], [1.5], [1e9, 1e9], [2 ** 53], 'x', null, [...(entry.shape as number[]), 1], [(entry.shape as number[])[0] ?? 1]]);
      else {
        const [s, e] = entry.data_offsets as [number, number];
        entry.data_offsets = pick(r, [[e, s], [s, e + 4], [s - 4, e], [0, 2 ** 53], [-4, e], [s + 0.5, e], [s], null, 'x', [s, s]]);
      }
      const json = new TextEncoder().encode(JSON.stringify(header));
      const data = b.subarray(8 + headerLen);
      const out = new Uint8Array(8 + json.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      out.set(data, 8 + json.length);
      return { kind: `header-${field}`, bytes: out };
    }
  }
}

/** Every path into a JSON tree (for picking a place to damage). */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

/** Damages a model.json object: a value replaced by a hostile one, a key dropped, or the text cut. */
export function mutateJson(r: Rand, json: object): { kind: string; text: string } {
  const kind = pick(r, ['replace', 'replace', 'replace', 'drop', 'truncate', 'garble']);
  const text = JSON.stringify(json);
  if (kind === 'truncate') return { kind, text: text.slice(0, int(r, text.length)) };
  if (kind === 'garble') {
    const chars = text.split('');
    for (let k = 1 + int(r, 4); k > 0; k--) chars[int(r, chars.length)] = pick(r, ['{', '}', '"', ',', ':', '9', '-', ' ', 'e']);
    return { kind, text: chars.join('') };
  }
  const copy = JSON.parse(text) as Record<string, unknown>;
  const all = paths(copy).filter((p) => p.length > 0);
  const path = pick(r, all);
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (kind === 'drop') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = pick(r, HOSTILE);
  return { kind: `${kind} ${path.join('.')}`.slice(0, 120), text: JSON.stringify(copy) };
}

/** Updates a model.json's manifest (length and CRC-32) to fit `weights`, so the damage reaches the parsers. */
export function refitManifest(text: string, weights: Uint8Array): string {
  try {
    const j = JSON.parse(text) as { weightsManifest?: { byteLength?: unknown; crc32?: unknown } };
    if (j && typeof j === 'object' && j.weightsManifest && typeof j.weightsManifest === 'object') {
      j.weightsManifest.byteLength = weights.length;
      j.weightsManifest.crc32 = crc32(weights);
      return JSON.stringify(j);
    }
  } catch {
    // Not JSON: leave the text as it is.
  }
  return text;
}
