/**
 * Reading and writing the safetensors format: an 8-byte little-endian header length `N`, `N`
 * bytes of UTF-8 JSON (`{ name: { dtype, shape, data_offsets }, __metadata__?: {..} }`), then
 * the raw little-endian tensor bytes. Offsets are relative to the data section, and the
 * tensors must tile it exactly.
 *
 * The parser treats its input as hostile: every malformed file raises a {@link FormatError}
 * saying what was wrong and where, nothing is allocated beyond the size of the input (the
 * header is capped by `maxHeaderBytes`), and every step is linear in the input.
 * @module
 */
import { ArgumentError, FormatError } from '@tessera/core';

/** The element types of the safetensors format that Tessera reads and writes. */
export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** One tensor of a safetensors file: its dtype, shape and raw little-endian bytes. */
export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** Raw little-endian bytes, exactly `product(shape) * itemsize` of them (row-major). */
  data: Uint8Array;
}

/** A parsed safetensors file: tensors by name (in data-section order) and the string metadata. */
export interface SafetensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of each dtype. */
const ITEM_SIZE: Readonly<Record<SafeDType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const DTYPE_NAMES = Object.keys(ITEM_SIZE) as SafeDType[];
const DEFAULT_MAX_HEADER = 100 * 1024 * 1024;
const META_KEY = '__metadata__';
const ENTRY_KEYS = new Set(['dtype', 'shape', 'data_offsets']);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function isSafeDType(d: unknown): d is SafeDType {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, d);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function quote(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/** Sets an own enumerable property, even one named `__proto__`. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The product of `shape`, or -1 if it is not a safe integer. */
function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return -1;
  }
  return n;
}

/**
 * Parses a safetensors file. Tensor bytes are copied out, so the result does not alias
 * `bytes`. Throws a {@link FormatError} that says what is wrong and where for any file that
 * does not follow the format exactly (including gaps, overlaps, trailing bytes and duplicate
 * names, which lenient readers accept).
 * @param opts.maxHeaderBytes - largest header accepted (default 100 MiB), a bound on what a
 *   hostile file can make the parser allocate.
 * @example
 * const file = parseSafetensors(new Uint8Array(await readFile('model.safetensors')));
 * for (const [name, t] of file.tensors) console.log(name, t.dtype, t.shape);
 * const w = toHostArray(file.tensors.get('dense/kernel')!); // { dtype: 'float32', data: Float32Array }
 */
export function parseSafetensors(bytes: Uint8Array, opts: { maxHeaderBytes?: number } = {}): SafetensorsFile {
  const op = 'parseSafetensors';
  if (!(bytes instanceof Uint8Array)) throw new ArgumentError(op, `expected a Uint8Array, got ${describe(bytes)}`);
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
  if (!Number.isSafeInteger(maxHeader) || maxHeader < 2) {
    throw new ArgumentError(op, `maxHeaderBytes must be an integer >= 2, got ${String(maxHeader)}`);
  }
  if (bytes.length < 8) {
    throw new FormatError(op, `file is ${bytes.length} bytes, shorter than the 8-byte header length that starts every safetensors file`);
  }

  // 1. The header length: a little-endian u64 at offset 0.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  if (hi >= 2 ** 21) {
    throw new FormatError(op, `header length at bytes 0..8 is ${((BigInt(hi) << 32n) | BigInt(lo)).toString()}, too large to be exact in JavaScript (>= 2^53): not a safetensors file, or a corrupt one`);
  }
  const n = hi * 2 ** 32 + lo;
  if (n > maxHeader) {
    throw new FormatError(op, `header length at bytes 0..8 is ${n} bytes, more than maxHeaderBytes (${maxHeader}); the file is ${bytes.length} bytes`);
  }
  if (n > bytes.length - 8) {
    throw new FormatError(op, `header length at bytes 0..8 is ${n} bytes, but only ${bytes.length - 8} bytes follow (file truncated or header length corrupt)`);
  }
  if (n < 2) throw new FormatError(op, `header length at bytes 0..8 is ${n}; a JSON object needs at least 2 bytes`);

  // 2. The header: UTF-8 JSON object.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new FormatError(op, `header (bytes 8..${8 + n}) is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new FormatError(op, `header (bytes 8..${8 + n}) is not valid JSON: ${msg.slice(0, 200)}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new FormatError(op, `header (bytes 8..${8 + n}) must be a JSON object, got ${describe(header)}`);
  }
  checkDuplicateKeys(text, op);

  // 3. Metadata and tensor entries.
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  interface Entry {
    name: string;
    dtype: SafeDType;
    shape: number[];
    begin: number;
    end: number;
  }
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === META_KEY) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new FormatError(op, `header: ${META_KEY} must be an object of strings, got ${describe(raw)}`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new FormatError(op, `header: ${META_KEY}[${quote(k)}] must be a string, got ${describe(v)}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    const where = `tensor ${quote(name)}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new FormatError(op, `${where}: entry must be an object {dtype, shape, data_offsets}, got ${describe(raw)}`);
    }
    const info = raw as Record<string, unknown>;
    for (const k of Object.keys(info)) {
      if (!ENTRY_KEYS.has(k)) throw new FormatError(op, `${where}: unknown field ${quote(k)} (expected dtype, shape, data_offsets)`);
    }
    const dtype = info.dtype;
    if (!isSafeDType(dtype)) {
      throw new FormatError(op, `${where}: unknown dtype ${describe(dtype)} (expected one of ${DTYPE_NAMES.join(', ')})`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape)) throw new FormatError(op, `${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
    for (let i = 0; i < shape.length; i++) {
      const d: unknown = shape[i];
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        throw new FormatError(op, `${where}: shape[${i}] is ${describe(d)}; expected a non-negative safe integer`);
      }
    }
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2) {
      throw new FormatError(op, `${where}: data_offsets must be [begin, end], got ${Array.isArray(offsets) ? `an array of ${offsets.length}` : describe(offsets)}`);
    }
    const [begin, end] = offsets as unknown[];
    for (const [label, v] of [['begin', begin], ['end', end]] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
        throw new FormatError(op, `${where}: data_offsets ${label} is ${describe(v)}; expected a non-negative safe integer`);
      }
    }
    const b = begin as number;
    const e = end as number;
    if (e < b) throw new FormatError(op, `${where}: data_offsets [${b}, ${e}] end before begin`);
    if (e > dataLen) {
      throw new FormatError(op, `${where}: data_offsets [${b}, ${e}] run past the data section, which has ${dataLen} bytes (file offsets ${dataStart}..${bytes.length})`);
    }
    const count = elementCount(shape as number[]);
    const itemSize = ITEM_SIZE[dtype];
    if (count < 0 || count * itemSize !== e - b) {
      throw new FormatError(op, `${where}: shape [${(shape as number[]).join(',')}] of ${dtype} needs ${count < 0 ? 'more than 2^53' : count * itemSize} bytes, but data_offsets [${b}, ${e}] hold ${e - b}`);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin: b, end: e });
  }

  // 4. The tensors must tile the data section: no gap, no overlap, nothing after the last.
  entries.sort((x, y) => x.begin - y.begin || x.end - y.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const t of entries) {
    if (t.begin > pos) {
      throw new FormatError(op, `gap in the data section: bytes ${pos}..${t.begin} belong to no tensor (${prev ? `between ${quote(prev.name)} ending at ${pos} and` : 'before'} ${quote(t.name)} at [${t.begin}, ${t.end}])`);
    }
    if (t.begin < pos) {
      throw new FormatError(op, `tensors ${quote(prev!.name)} [${prev!.begin}, ${prev!.end}] and ${quote(t.name)} [${t.begin}, ${t.end}] overlap in the data section`);
    }
    pos = t.end;
    prev = t;
  }
  if (pos !== dataLen) {
    throw new FormatError(op, `data section has ${dataLen} bytes but the tensors end at ${pos}: ${dataLen - pos} trailing bytes belong to no tensor (file offsets ${dataStart + pos}..${bytes.length})`);
  }

  const tensors = new Map<string, SafeTensor>();
  for (const t of entries) {
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: bytes.slice(dataStart + t.begin, dataStart + t.end) });
  }
  return { tensors, metadata };
}

/**
 * Rejects a key that appears twice in one object of the header (at the top level, where a
 * repeated tensor name would silently replace the first, and inside each entry and the
 * metadata). `text` is already known to be valid JSON.
 */
function checkDuplicateKeys(text: string, op: string): void {
  let depth = 0;
  // Key sets of the open objects at depth 1 (the header) and 2 (entries, metadata).
  const sets: (Set<string> | null)[] = [null, null, null];
  // Whether the open container at depth 1 / 2 is an object (deeper levels need no tracking).
  const isObject = [false, false, false];
  let topKey = '';
  let expectKey = false;
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      i++;
      for (; i < len; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      if (expectKey && depth <= 2) {
        const rawKey = text.slice(start + 1, i);
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : rawKey;
        const set = sets[depth]!;
        if (set.has(key)) {
          const where = depth === 1 ? 'the header' : `${quote(topKey)}`;
          throw new FormatError(op, `duplicate key ${quote(key)} in ${where} at header byte ~${start} (JSON.parse would silently keep the last one)`);
        }
        set.add(key);
        if (depth === 1) topKey = key;
      }
      expectKey = false;
    } else if (c === 0x7b /* { */) {
      depth++;
      if (depth <= 2) {
        isObject[depth] = true;
        sets[depth] = new Set();
      }
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      depth++;
      if (depth <= 2) isObject[depth] = false;
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth <= 2) sets[depth] = null;
      depth--;
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = depth <= 2 && isObject[depth]!;
    }
  }
}

/**
 * Serialises tensors (and optional string metadata) to safetensors bytes. Tensors are laid
 * out by descending item size, then by name, and the header is padded with spaces to a
 * multiple of 8, so every tensor starts at a multiple of its item size in the file.
 * Throws an {@link ArgumentError} for an invalid tensor or metadata value.
 * @example
 * const bytes = serializeSafetensors(
 *   { 'dense/kernel': fromHostArray(new Float32Array([1, 2, 3, 4]), [2, 2], 'float32') },
 *   { format: 'tessera' },
 * );
 * await writeFile('model.safetensors', bytes);
 */
export function serializeSafetensors(
  tensors: Record<string, SafeTensor> | Map<string, SafeTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const op = 'serializeSafetensors';
  const list: [string, SafeTensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (name === META_KEY) throw new ArgumentError(op, `the name ${META_KEY} is reserved for metadata`);
    checkTensor(op, `tensor ${quote(name)}`, t);
  }
  list.sort((a, b) => ITEM_SIZE[b[1].dtype] - ITEM_SIZE[a[1].dtype] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new ArgumentError(op, `metadata must be an object of strings, got ${describe(metadata)}`);
    }
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new ArgumentError(op, `metadata[${quote(k)}] must be a string, got ${describe(v)}`);
      setOwn(meta, k, v);
    }
    header[META_KEY] = meta;
  }
  let pos = 0;
  for (const [name, t] of list) {
    setOwn(header, name, { dtype: t.dtype, shape: t.shape.slice(), data_offsets: [pos, pos + t.data.length] });
    pos += t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + pos);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, padded % 2 ** 32, true);
  dv.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const [, t] of list) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

function checkTensor(op: string, where: string, t: SafeTensor): void {
  if (t === null || typeof t !== 'object') throw new ArgumentError(op, `${where}: expected {dtype, shape, data}, got ${describe(t)}`);
  if (!isSafeDType(t.dtype)) throw new ArgumentError(op, `${where}: unknown dtype ${describe(t.dtype)} (expected one of ${DTYPE_NAMES.join(', ')})`);
  if (!Array.isArray(t.shape) || t.shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw new ArgumentError(op, `${where}: shape must be an array of non-negative integers, got ${Array.isArray(t.shape) ? `[${t.shape.join(',')}]` : describe(t.shape)}`);
  }
  if (!(t.data instanceof Uint8Array)) throw new ArgumentError(op, `${where}: data must be a Uint8Array, got ${describe(t.data)}`);
  const count = elementCount(t.shape);
  if (count < 0 || count * ITEM_SIZE[t.dtype] !== t.data.length) {
    throw new ArgumentError(op, `${where}: shape [${t.shape.join(',')}] of ${t.dtype} needs ${count < 0 ? 'more than 2^53' : count * ITEM_SIZE[t.dtype]} bytes, got ${t.data.length}`);
  }
}

/** Decodes an IEEE 754 half-precision bit pattern. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Converts a {@link SafeTensor} to the host array of a Tessera dtype (always a fresh copy):
 * F32 → Float32Array; F64, F16, BF16 → Float32Array (converted; F64 rounds to nearest);
 * I32 → Int32Array; I64 → Int32Array (a {@link FormatError} if a value does not fit);
 * I16, I8, U8 → Int32Array; BOOL → Uint8Array (any non-zero byte becomes 1).
 * @example
 * const { dtype, data } = toHostArray(file.tensors.get('w')!);
 * const w = tensor(data, file.tensors.get('w')!.shape, dtype);
 */
export function toHostArray(t: SafeTensor): { dtype: 'float32' | 'int32' | 'bool'; data: Float32Array | Int32Array | Uint8Array } {
  const op = 'toHostArray';
  if (t === null || typeof t !== 'object' || !isSafeDType(t.dtype)) {
    throw new FormatError(op, `unknown dtype ${describe(t === null || typeof t !== 'object' ? t : t.dtype)} (expected one of ${DTYPE_NAMES.join(', ')})`);
  }
  if (!(t.data instanceof Uint8Array)) throw new FormatError(op, `data must be a Uint8Array, got ${describe(t.data)}`);
  const item = ITEM_SIZE[t.dtype];
  const count = Array.isArray(t.shape) && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? elementCount(t.shape) : -1;
  if (count < 0 || count * item !== t.data.length) {
    throw new FormatError(op, `${t.dtype} tensor of shape [${Array.isArray(t.shape) ? t.shape.join(',') : describe(t.shape)}] needs ${count < 0 ? 'a valid shape' : `${count * item} bytes`}, got ${t.data.length} bytes`);
  }
  const src = t.data;
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  switch (t.dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(src);
      else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
      return { dtype: 'float32', data: out };
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true);
      return { dtype: 'float32', data: out };
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return { dtype: 'float32', data: out };
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return { dtype: 'float32', data: out };
    }
    case 'I32': {
      const out = new Int32Array(count);
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(src);
      else for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, true);
      return { dtype: 'int32', data: out };
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const lo = dv.getInt32(8 * i, true);
        const hi = dv.getInt32(8 * i + 4, true);
        if (hi !== lo >> 31) {
          throw new FormatError(op, `I64 element ${i} is ${dv.getBigInt64(8 * i, true).toString()}, which does not fit in int32`);
        }
        out[i] = lo;
      }
      return { dtype: 'int32', data: out };
    }
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(2 * i, true);
      return { dtype: 'int32', data: out };
    }
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt8(i);
      return { dtype: 'int32', data: out };
    }
    case 'U8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i]!;
      return { dtype: 'int32', data: out };
    }
    case 'BOOL': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i] !== 0 ? 1 : 0;
      return { dtype: 'bool', data: out };
    }
  }
}

/**
 * Wraps a Tessera host array as a {@link SafeTensor} (bytes copied): float32 → F32,
 * int32 → I32, bool → BOOL. Throws an {@link ArgumentError} when the array type does not
 * match `dtype` or its length does not match `shape`.
 * @example
 * const t = fromHostArray(await w.data(), [...w.shape], w.dtype);
 * const bytes = serializeSafetensors({ w: t });
 */
export function fromHostArray(data: Float32Array | Int32Array | Uint8Array, shape: number[], dtype: 'float32' | 'int32' | 'bool'): SafeTensor {
  const op = 'fromHostArray';
  const want = dtype === 'float32' ? Float32Array : dtype === 'int32' ? Int32Array : dtype === 'bool' ? Uint8Array : undefined;
  if (want === undefined) throw new ArgumentError(op, `dtype must be 'float32', 'int32' or 'bool', got ${describe(dtype)}`);
  if (!(data instanceof want)) {
    throw new ArgumentError(op, `${dtype} data must be a ${want.name}, got ${data === null || typeof data !== 'object' ? describe(data) : (data as object).constructor.name}`);
  }
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    throw new ArgumentError(op, `shape must be an array of non-negative integers, got ${Array.isArray(shape) ? `[${shape.join(',')}]` : describe(shape)}`);
  }
  const count = elementCount(shape);
  if (count !== data.length) throw new ArgumentError(op, `shape [${shape.join(',')}] has ${count} elements but data has ${data.length}`);
  const safe: SafeDType = dtype === 'float32' ? 'F32' : dtype === 'int32' ? 'I32' : 'BOOL';
  const bytes = new Uint8Array(count * ITEM_SIZE[safe]);
  if (dtype === 'bool') {
    for (let i = 0; i < count; i++) bytes[i] = data[i] !== 0 ? 1 : 0;
  } else if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < count; i++) {
      if (dtype === 'float32') dv.setFloat32(4 * i, data[i]!, true);
      else dv.setInt32(4 * i, data[i]!, true);
    }
  }
  return { dtype: safe, shape: shape.slice(), data: bytes };
}
