import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { FormatError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { goldenDir as findGoldenDir } from '../src/golden.js';
import {
  fromHostArray,
  parseSafetensors,
  serializeSafetensors,
  toHostArray,
  type SafeDType,
  type SafeTensor,
} from '../src/safetensors.js';

const goldenDir = findGoldenDir();

const ITEM: Record<SafeDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const DTYPES = Object.keys(ITEM) as SafeDType[];

/** mulberry32: a small seeded generator for reproducible test data and mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomBytes(n: number, r: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** A file from a header (object or raw text) and a data section; `n` overrides the length field. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), n?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, n ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): { n: number; text: string } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, text: new TextDecoder().decode(bytes.subarray(8, 8 + n)) };
}

function expectFormatError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a FormatError').toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(pattern);
}

function sampleTensors(seed: number): Record<string, SafeTensor> {
  const r = rng(seed);
  const out: Record<string, SafeTensor> = {};
  const shapes = [[], [3], [2, 3], [0, 4], [2, 1, 3]];
  for (const dtype of DTYPES) {
    shapes.forEach((shape, i) => {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = randomBytes(count * ITEM[dtype], r);
      if (dtype === 'BOOL') for (let j = 0; j < data.length; j++) data[j] = data[j]! & 1;
      out[`${dtype.toLowerCase()}/t${i}`] = { dtype, shape, data };
    });
  }
  return out;
}

describe('serializeSafetensors / parseSafetensors', () => {
  it('round-trips every dtype, scalars and empty tensors, with metadata', () => {
    const tensors = sampleTensors(1);
    const metadata = { format: 'tessera', note: 'ünïcödé ✓', empty: '' };
    const bytes = serializeSafetensors(tensors, metadata);
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual(metadata);
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = file.tensors.get(name)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(got.data).toEqual(t.data);
    }
  });

  it('accepts a Map, pads the header to 8 bytes and aligns every tensor to its item size', () => {
    const tensors = new Map(Object.entries(sampleTensors(2)));
    const bytes = serializeSafetensors(tensors);
    const { n, text } = headerOf(bytes);
    expect(n % 8).toBe(0);
    expect(text).toMatch(/^\{.*\} *$/);
    const header = JSON.parse(text) as Record<string, { dtype: SafeDType; data_offsets: [number, number] }>;
    expect(header.__metadata__).toBeUndefined();
    for (const info of Object.values(header)) expect((8 + n + info.data_offsets[0]) % ITEM[info.dtype]).toBe(0);
    // Deterministic regardless of insertion order.
    const reversed = new Map([...tensors.entries()].reverse());
    expect(serializeSafetensors(reversed)).toEqual(bytes);
  });

  it('writes an empty file as a valid one', () => {
    const bytes = serializeSafetensors({});
    expect(bytes.length).toBe(16);
    const file = parseSafetensors(bytes);
    expect(file.tensors.size).toBe(0);
    expect(file.metadata).toEqual({});
  });

  it('copies tensor bytes out of the input (no aliasing)', () => {
    const bytes = serializeSafetensors({ a: fromHostArray(new Float32Array([1, 2, 3]), [3], 'float32') });
    const file = parseSafetensors(bytes);
    const a = file.tensors.get('a')!;
    expect(a.data.buffer).not.toBe(bytes.buffer);
    bytes.fill(0);
    expect(toHostArray(a).data).toEqual(new Float32Array([1, 2, 3]));
  });

  it('parses a file held at an odd offset of a larger buffer', () => {
    const inner = serializeSafetensors({ a: fromHostArray(new Int32Array([7, -8]), [2], 'int32') });
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    const file = parseSafetensors(outer.subarray(3));
    expect(toHostArray(file.tensors.get('a')!).data).toEqual(new Int32Array([7, -8]));
  });

  it('keeps names and metadata keys such as __proto__ as plain data', () => {
    const t = fromHostArray(new Uint8Array([1]), [1], 'bool');
    const file = parseSafetensors(serializeSafetensors(new Map([['__proto__', t], ['constructor', t]]), { __proto__x: 'a' }));
    expect([...file.tensors.keys()].sort()).toEqual(['__proto__', 'constructor']);
    const raw = build('{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', new Uint8Array([5]));
    const f2 = parseSafetensors(raw);
    expect(Object.getOwnPropertyDescriptor(f2.metadata, '__proto__')?.value).toBe('x');
    expect(toHostArray(f2.tensors.get('__proto__')!).data).toEqual(new Int32Array([5]));
  });

  it('rejects invalid tensors and metadata when writing', () => {
    const ok = fromHostArray(new Float32Array(2), [2], 'float32');
    expect(() => serializeSafetensors({ a: { ...ok, shape: [3] } })).toThrow(/needs 12 bytes, got 8/);
    expect(() => serializeSafetensors({ a: { ...ok, dtype: 'F8' as SafeDType } })).toThrow(/unknown dtype "F8"/);
    expect(() => serializeSafetensors({ a: { ...ok, shape: [-2] } })).toThrow(/shape/);
    expect(() => serializeSafetensors({ __metadata__: ok })).toThrow(/reserved/);
    expect(() => serializeSafetensors({ a: ok }, { v: 1 as unknown as string })).toThrow(/metadata\["v"\] must be a string/);
  });
});

describe('toHostArray / fromHostArray', () => {
  function raw(dtype: SafeDType, words: number[], shape = [words.length]): SafeTensor {
    const size = ITEM[dtype];
    const data = new Uint8Array(words.length * size);
    const dv = new DataView(data.buffer);
    words.forEach((w, i) => {
      if (size === 1) dv.setUint8(i, w);
      else if (size === 2) dv.setUint16(2 * i, w, true);
      else if (dtype === 'F32') dv.setFloat32(4 * i, w, true);
      else if (dtype === 'I32') dv.setInt32(4 * i, w, true);
      else if (dtype === 'F64') dv.setFloat64(8 * i, w, true);
      else dv.setBigInt64(8 * i, BigInt(w), true);
    });
    return { dtype, shape, data };
  }

  it('decodes F16 known values (normals, subnormals, zeros, infinities, NaN)', () => {
    const { dtype, data } = toHostArray(raw('F16', [0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555, 0x3800]));
    expect(dtype).toBe('float32');
    const want = [1, -2, 65504, 2 ** -14, 2 ** -24, 1023 * 2 ** -24, 0, -0, Infinity, -Infinity, NaN, 0.333251953125, 0.5];
    want.forEach((w, i) => expect(Object.is(data[i], w), `element ${i}: ${data[i]} vs ${w}`).toBe(true));
  });

  it('decodes BF16 known values', () => {
    const { dtype, data } = toHostArray(raw('BF16', [0x3f80, 0xc000, 0x4049, 0x7f80, 0xff80, 0x7fc0, 0x0001, 0x8000, 0x7f7f, 0x3e80]));
    expect(dtype).toBe('float32');
    const want = [1, -2, 3.140625, Infinity, -Infinity, NaN, 2 ** -133, -0, 3.3895313892515355e38, 0.25];
    want.forEach((w, i) => expect(Object.is(data[i], w), `element ${i}: ${data[i]} vs ${w}`).toBe(true));
  });

  it('converts F64 to float32 by rounding', () => {
    const { dtype, data } = toHostArray(raw('F64', [0.1, -1e-50, 1e300, 16777217]));
    expect(dtype).toBe('float32');
    expect(Array.from(data)).toEqual([Math.fround(0.1), -0, Infinity, 16777216]);
  });

  it('converts integer dtypes to int32 with their signs', () => {
    expect(toHostArray(raw('I8', [0x7f, 0x80, 0xff]))).toEqual({ dtype: 'int32', data: new Int32Array([127, -128, -1]) });
    expect(toHostArray(raw('U8', [0x7f, 0x80, 0xff]))).toEqual({ dtype: 'int32', data: new Int32Array([127, 128, 255]) });
    expect(toHostArray(raw('I16', [0x7fff, 0x8000, 0xffff]))).toEqual({ dtype: 'int32', data: new Int32Array([32767, -32768, -1]) });
    expect(toHostArray(raw('I32', [2147483647, -2147483648, -5]))).toEqual({ dtype: 'int32', data: new Int32Array([2147483647, -2147483648, -5]) });
    expect(toHostArray(raw('I64', [2147483647, -2147483648, -1, 0]))).toEqual({ dtype: 'int32', data: new Int32Array([2147483647, -2147483648, -1, 0]) });
  });

  it('throws a FormatError for an I64 value outside int32', () => {
    expectFormatError(() => toHostArray(raw('I64', [1, 2147483648])), /I64 element 1 is 2147483648, which does not fit in int32/);
    expectFormatError(() => toHostArray(raw('I64', [-2147483649])), /I64 element 0 is -2147483649/);
    expectFormatError(() => toHostArray(raw('I64', [2 ** 40])), /does not fit/);
  });

  it('returns bool as 0/1 bytes and checks the byte length', () => {
    expect(toHostArray(raw('BOOL', [0, 1, 2, 255]))).toEqual({ dtype: 'bool', data: new Uint8Array([0, 1, 1, 1]) });
    expectFormatError(() => toHostArray({ dtype: 'F32', shape: [3], data: new Uint8Array(8) }), /needs 12 bytes, got 8/);
    expectFormatError(() => toHostArray({ dtype: 'Q4' as SafeDType, shape: [1], data: new Uint8Array(1) }), /unknown dtype "Q4"/);
  });

  it('returns fresh arrays that do not alias the tensor bytes', () => {
    const t = raw('F32', [1.5, -2]);
    const { data } = toHostArray(t);
    t.data.fill(0);
    expect(Array.from(data)).toEqual([1.5, -2]);
  });

  it('round-trips host arrays of each Tessera dtype through a file', () => {
    const f = new Float32Array([1.25, -0, NaN, Infinity, 3e-40]);
    const i = new Int32Array([0, -1, 2147483647, -2147483648]);
    const b = new Uint8Array([1, 0, 1]);
    const file = parseSafetensors(
      serializeSafetensors({ f: fromHostArray(f, [5], 'float32'), i: fromHostArray(i, [2, 2], 'int32'), b: fromHostArray(b, [3, 1], 'bool') }),
    );
    expect(toHostArray(file.tensors.get('f')!)).toEqual({ dtype: 'float32', data: f });
    expect(file.tensors.get('i')!.shape).toEqual([2, 2]);
    expect(toHostArray(file.tensors.get('i')!)).toEqual({ dtype: 'int32', data: i });
    expect(toHostArray(file.tensors.get('b')!)).toEqual({ dtype: 'bool', data: b });
  });

  it('fromHostArray checks the array type and the shape', () => {
    expect(() => fromHostArray(new Float32Array(3), [3], 'int32')).toThrow(/int32 data must be a Int32Array, got Float32Array/);
    expect(() => fromHostArray(new Float32Array(3), [2, 2], 'float32')).toThrow(/shape \[2,2\] has 4 elements but data has 3/);
    const sub = new Float32Array([9, 1, 2, 9]).subarray(1, 3);
    expect(toHostArray(fromHostArray(sub, [2], 'float32')).data).toEqual(new Float32Array([1, 2]));
  });
});

describe('parseSafetensors rejects malformed files with a FormatError', () => {
  const f32 = (shape: number[], offsets: [number, number]) => ({ dtype: 'F32', shape, data_offsets: offsets });
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty file', () => new Uint8Array(0), /file is 0 bytes, shorter than the 8-byte header length/],
    ['7 bytes', () => new Uint8Array(7), /file is 7 bytes/],
    ['header length beyond the file', () => build('{}', new Uint8Array(0), 100n), /header length .* is 100 bytes, but only 2 bytes follow/],
    ['header length beyond 2^53', () => build('{}', new Uint8Array(0), 2n ** 60n), /header length .* is 1152921504606846976, too large .* \(>= 2\^53\)/],
    ['header length exactly 2^53', () => build('{}', new Uint8Array(0), 2n ** 53n), /is 9007199254740992, too large/],
    ['header length at the u64 maximum', () => build('{}', new Uint8Array(0), 2n ** 64n - 1n), /is 18446744073709551615, too large/],
    ['header length beyond maxHeaderBytes', () => build('{}', new Uint8Array(0), 2n ** 40n), /more than maxHeaderBytes \(104857600\)/],
    ['header length 0', () => build(''), /header length .* is 0/],
    ['invalid UTF-8', () => build('{"ab":1}').map((b, i) => (i === 10 ? 0xff : b)), /header \(bytes 8\.\.16\) is not valid UTF-8/],
    ['invalid JSON', () => build('{"a": }'), /header \(bytes 8\.\.15\) is not valid JSON/],
    ['trailing garbage after the JSON', () => build('{} x'), /not valid JSON/],
    ['header an array', () => build('[1, 2]'), /must be a JSON object, got an array/],
    ['header a string', () => build('"abc"'), /must be a JSON object, got "abc"/],
    ['header null', () => build('null'), /must be a JSON object, got null/],
    ['entry not an object', () => build({ a: 5 }), /tensor "a": entry must be an object/],
    ['unknown entry field', () => build({ a: { ...f32([1], [0, 4]), extra: 1 } }, new Uint8Array(4)), /tensor "a": unknown field "extra"/],
    ['unknown dtype', () => build({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor "a": unknown dtype "F8_E4M3"/],
    ['dtype not a string', () => build({ a: { dtype: 4, shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /unknown dtype 4/],
    ['shape not an array', () => build({ a: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor "a": shape must be an array/],
    ['negative dim', () => build({ a: f32([-1], [0, 0]) }), /tensor "a": shape\[0\] is -1/],
    ['fractional dim', () => build({ a: f32([1.5], [0, 6]) }, new Uint8Array(6)), /shape\[0\] is 1.5/],
    ['dim beyond 2^53', () => build({ a: f32([2 ** 60], [0, 4]) }, new Uint8Array(4)), /shape\[0\] is 1152921504606847000/],
    ['string dim', () => build({ a: f32(['2' as unknown as number], [0, 8]) }, new Uint8Array(8)), /shape\[0\] is "2"/],
    ['huge shape product', () => build({ a: f32([2 ** 30, 2 ** 30, 2 ** 30], [0, 4]) }, new Uint8Array(4)), /needs more than 2\^53 bytes/],
    ['offsets missing', () => build({ a: { dtype: 'F32', shape: [1] } }, new Uint8Array(4)), /data_offsets must be \[begin, end\]/],
    ['offsets of length 3', () => build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, new Uint8Array(4)), /got an array of 3/],
    ['negative offset', () => build({ a: f32([1], [-4, 0]) }, new Uint8Array(4)), /data_offsets begin is -4/],
    ['fractional offset', () => build({ a: f32([1], [0, 4.5]) }, new Uint8Array(4)), /data_offsets end is 4.5/],
    ['end before begin', () => build({ a: f32([0], [4, 0]) }, new Uint8Array(4)), /data_offsets \[4, 0\] end before begin/],
    ['end beyond the data section', () => build({ a: f32([4], [0, 16]) }, new Uint8Array(8)), /run past the data section, which has 8 bytes/],
    ['huge end', () => build({ a: f32([1], [0, 2 ** 50]) }, new Uint8Array(4)), /run past the data section/],
    ['length not shape·itemsize', () => build({ a: f32([3], [0, 8]) }, new Uint8Array(8)), /shape \[3\] of F32 needs 12 bytes, but data_offsets \[0, 8\] hold 8/],
    ['overlap', () => build({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, new Uint8Array(12)), /tensors "a" \[0, 8\] and "b" \[4, 12\] overlap/],
    ['same range twice', () => build({ a: f32([2], [0, 8]), b: f32([2], [0, 8]) }, new Uint8Array(8)), /overlap/],
    ['gap between tensors', () => build({ a: f32([1], [0, 4]), b: f32([1], [8, 12]) }, new Uint8Array(12)), /gap in the data section: bytes 4\.\.8 belong to no tensor \(between "a" ending at 4 and "b" at \[8, 12\]\)/],
    ['gap at the start', () => build({ b: f32([1], [4, 8]) }, new Uint8Array(8)), /bytes 0\.\.4 belong to no tensor \(before "b"/],
    ['trailing bytes', () => build({ a: f32([1], [0, 4]) }, new Uint8Array(10)), /data section has 10 bytes but the tensors end at 4: 6 trailing bytes/],
    ['data but no tensors', () => build({}, new Uint8Array(3)), /3 trailing bytes/],
    ['duplicate tensor name', () => build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8)), /duplicate key "a" in the header/],
    ['duplicate name spelled with an escape', () => build('{"ab":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"\\u0061b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', new Uint8Array(2)), /duplicate key "ab"/],
    ['duplicate field inside an entry', () => build('{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), /duplicate key "dtype" in "a"/],
    ['duplicate metadata key', () => build('{"__metadata__":{"k":"1","k":"2"}}'), /duplicate key "k" in "__metadata__"/],
    ['metadata not an object', () => build({ __metadata__: ['x'] }), /__metadata__ must be an object of strings, got an array/],
    ['metadata value not a string', () => build({ __metadata__: { epochs: 3 } }), /__metadata__\["epochs"\] must be a string, got 3/],
    ['metadata value null', () => build({ __metadata__: { a: null } }), /must be a string, got null/],
  ];
  for (const [what, make, pattern] of cases) {
    it(what, () => expectFormatError(() => parseSafetensors(make()), pattern));
  }

  it('honours a smaller maxHeaderBytes', () => {
    const bytes = serializeSafetensors({ a: fromHostArray(new Float32Array(1), [1], 'float32') });
    expect(() => parseSafetensors(bytes, { maxHeaderBytes: 64 })).not.toThrow();
    expectFormatError(() => parseSafetensors(bytes, { maxHeaderBytes: 16 }), /more than maxHeaderBytes \(16\)/);
  });

  it('does not mistake keys inside strings or nested values for duplicates', () => {
    const text = '{"__metadata__":{"a":"{\\"a\\":1,\\"a\\":2}","b":"a"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}';
    const file = parseSafetensors(build(text, new Uint8Array([1, 2])));
    expect(file.metadata.a).toBe('{"a":1,"a":2}');
    expect(file.tensors.size).toBe(2);
  });

  it('accepts zero-size tensors sharing an offset with their neighbours', () => {
    const file = parseSafetensors(
      build({ e1: f32([0], [4, 4]), a: f32([1], [0, 4]), e2: f32([0, 5], [4, 4]), b: f32([1], [4, 8]), e3: f32([3, 0], [8, 8]) }, new Uint8Array(8)),
    );
    expect([...file.tensors.keys()]).toEqual(['a', 'e1', 'e2', 'b', 'e3']);
  });

  it('accepts a header with no padding and tensors in any key order', () => {
    const data = new Uint8Array([0, 0, 128, 63, 2, 0, 0, 0]);
    const file = parseSafetensors(build({ i: { dtype: 'I32', shape: [], data_offsets: [4, 8] }, f: f32([], [0, 4]) }, data));
    expect(toHostArray(file.tensors.get('f')!).data).toEqual(new Float32Array([1]));
    expect(toHostArray(file.tensors.get('i')!).data).toEqual(new Int32Array([2]));
  });
});

describe('golden files', () => {
  const files = readdirSync(goldenDir).filter((f) => f.endsWith('.safetensors'));

  it('finds the golden files', () => expect(files.length).toBeGreaterThanOrEqual(5));

  for (const name of files) {
    it(`parses ${name} and finds every tensor its manifest names`, () => {
      const bytes = new Uint8Array(readFileSync(resolve(goldenDir, name)));
      const file = parseSafetensors(bytes);
      const manifestName = file.metadata.manifest ?? name.replace('.safetensors', '.json');
      expect(file.metadata.generator).toBeTypeOf('string');
      const manifest = JSON.parse(readFileSync(resolve(goldenDir, manifestName), 'utf8')) as {
        cases: { id: string; inputs?: string[]; params?: string[]; outputs?: string[]; grads?: Record<string, string>; upstream?: string | null }[];
      };
      const ids = new Set(manifest.cases.map((c) => c.id));
      for (const c of manifest.cases) {
        const named = [...(c.inputs ?? []), ...(c.params ?? []), ...(c.outputs ?? []), ...Object.entries(c.grads ?? {}).flat()];
        if (c.upstream) named.push(c.upstream);
        for (const t of named) expect(file.tensors.has(t), `${c.id} names ${t}`).toBe(true);
      }
      for (const [tname, t] of file.tensors) {
        expect(ids.has(tname.slice(0, tname.lastIndexOf('/'))), `${tname} belongs to a case`).toBe(true);
        expect(['F32', 'F64', 'I32']).toContain(t.dtype);
        const host = toHostArray(t);
        expect(host.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        if (t.dtype !== 'I32') expect(Array.from(host.data as Float32Array).every(Number.isFinite), `${tname} finite`).toBe(true);
      }
      // Re-serialising gives a file with the same tensors.
      const again = parseSafetensors(serializeSafetensors(file.tensors, file.metadata));
      expect(again.metadata).toEqual(file.metadata);
      for (const [tname, t] of file.tensors) expect(again.tensors.get(tname)).toEqual(t);
    });
  }

  it('reads values correctly: matmul_2d y equals a @ b computed here in float64', () => {
    const file = parseSafetensors(new Uint8Array(readFileSync(resolve(goldenDir, 'ops.safetensors'))));
    const get = (n: string) => file.tensors.get(`matmul_2d/${n}`)!;
    const a = toHostArray(get('a')).data;
    const b = toHostArray(get('b')).data;
    const yT = get('y');
    const y = new DataView(yT.data.buffer, yT.data.byteOffset, yT.data.byteLength);
    const [m, k] = get('a').shape as [number, number];
    const n = get('b').shape[1]!;
    expect(yT.shape).toEqual([m, n]);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
        expect(Math.abs(s - y.getFloat64(8 * (i * n + j), true))).toBeLessThan(1e-12 * Math.max(1, Math.abs(s)));
      }
    }
  });
});

describe('fuzz: mutated files parse or throw FormatError, never anything else', () => {
  const base = serializeSafetensors(
    {
      w: fromHostArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], 'float32'),
      b: fromHostArray(new Float32Array([0.5, -0.5, 1]), [3], 'float32'),
      i: fromHostArray(new Int32Array([1, -2]), [2], 'int32'),
      m: fromHostArray(new Uint8Array([1, 0, 1]), [3], 'bool'),
      h: { dtype: 'F16', shape: [2], data: new Uint8Array([0, 60, 0, 192]) },
      l: { dtype: 'I64', shape: [1], data: new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]) },
      s: { dtype: 'F64', shape: [], data: new Uint8Array(new Float64Array([Math.PI]).buffer) },
    },
    { kind: 'fuzz' },
  );
  const { n: baseN, text: baseText } = headerOf(base);
  const baseData = base.subarray(8 + baseN);
  const baseHeader = JSON.parse(baseText) as Record<string, Record<string, unknown>>;
  const names = Object.keys(baseHeader).filter((k) => k !== '__metadata__');

  const weird = [-1, 0, 1, 3, 7, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e308, -0, 0.5, NaN, 'x', null, [], {}, true];

  function mutate(r: () => number): Uint8Array {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const int = (n: number) => Math.floor(r() * n);
    const kind = int(10);
    switch (kind) {
      case 0: {
        // Bit flips anywhere.
        const out = base.slice();
        const flips = 1 + int(8);
        for (let f = 0; f < flips; f++) out[int(out.length)]! ^= 1 << int(8);
        return out;
      }
      case 1: {
        // Bit flips in the header length and header, or in the data only (which must parse).
        const out = base.slice();
        if (r() < 0.5) out[int(8 + baseN)]! ^= 1 << int(8);
        else out[8 + baseN + int(baseData.length)]! ^= 1 << int(8);
        return out;
      }
      case 2:
        // Truncation.
        return base.slice(0, int(base.length));
      case 3: {
        // The header length lies.
        const out = base.slice();
        const choices = [0n, 1n, BigInt(baseN - 1 - int(8)), BigInt(baseN + 1 + int(16)), BigInt(out.length), 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, BigInt(int(2 ** 30))];
        new DataView(out.buffer).setBigUint64(0, pick(choices), true);
        return out;
      }
      case 4: {
        // Offsets lie.
        const h = structuredClone(baseHeader);
        const e = h[pick(names)]!;
        const off = (e.data_offsets as number[]).slice();
        off[int(2)] = r() < 0.5 ? off[int(2)]! + pick([-8, -4, -1, 1, 2, 4, 8]) : (pick(weird) as number);
        e.data_offsets = r() < 0.1 ? [off[0]] : off;
        return build(h, baseData);
      }
      case 5: {
        // Huge or odd shapes and lengths.
        const h = structuredClone(baseHeader);
        const e = h[pick(names)]!;
        const shape = (e.shape as unknown[]).slice();
        if (shape.length === 0 || r() < 0.3) shape.push(pick(weird));
        else shape[int(shape.length)] = pick([2 ** 31, 2 ** 40, 2 ** 53, 2 ** 60, 1e308, -1, 0, 0.5, '3']);
        e.shape = shape;
        if (r() < 0.5) e.data_offsets = [0, pick([2 ** 31, 2 ** 53, 2 ** 60, 1e308])];
        return build(h, baseData);
      }
      case 6: {
        // Duplicate names (and duplicate fields), spliced into the header text.
        const name = pick(names);
        const entry = JSON.stringify(baseHeader[name]);
        const text = r() < 0.7 ? baseText.trimEnd().replace(/\}$/, `,${JSON.stringify(name)}:${entry}}`) : baseText.replace('"dtype":', '"dtype":"F32","dtype":');
        return build(text, baseData);
      }
      case 7: {
        // Wrong types and dtypes in the header.
        const h = structuredClone(baseHeader) as Record<string, unknown>;
        const key = pick([...names, '__metadata__']);
        const e = h[key] as Record<string, unknown>;
        const field = pick(['dtype', 'shape', 'data_offsets', 'kind', 'extra']);
        if (r() < 0.5 && field === 'dtype') e.dtype = pick(['F8_E5M2', 'U16', 'f32', '', 'BOOL', 'I8', 'F64']);
        else if (r() < 0.2) h[key] = pick(weird);
        else e[field] = pick(weird);
        return build(h, baseData);
      }
      case 8: {
        // Random bytes spliced into the header text.
        const json = new TextEncoder().encode(baseText);
        const at = int(json.length);
        const junk = randomBytes(1 + int(6), r);
        const text = new Uint8Array(json.length + junk.length);
        text.set(json.subarray(0, at));
        text.set(junk, at);
        text.set(json.subarray(at), at + junk.length);
        const out = new Uint8Array(8 + text.length + baseData.length);
        new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
        out.set(text, 8);
        out.set(baseData, 8 + text.length);
        return out;
      }
      default: {
        // Data section grows or shrinks, or the whole file is noise.
        if (r() < 0.2) return randomBytes(int(64), r);
        const extra = int(16) - 8;
        const data = extra >= 0 ? new Uint8Array([...baseData, ...randomBytes(extra, r)]) : baseData.slice(0, baseData.length + extra);
        return build(baseText, data);
      }
    }
  }

  it('2,000 seeded mutations', () => {
    const r = rng(20240601);
    const outcome = { parsed: 0, rejected: 0 };
    const started = performance.now();
    for (let k = 0; k < 2000; k++) {
      const bytes = mutate(r);
      const t0 = performance.now();
      try {
        const file = parseSafetensors(bytes);
        for (const t of file.tensors.values()) {
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1) * ITEM[t.dtype]);
          try {
            toHostArray(t);
          } catch (e) {
            if (!(e instanceof FormatError)) throw e;
          }
        }
        outcome.parsed++;
      } catch (e) {
        if (!(e instanceof FormatError)) {
          throw new Error(`mutation ${k} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        }
        expect(e.message).toMatch(/^(parseSafetensors|toHostArray): /);
        outcome.rejected++;
      }
      expect(performance.now() - t0, `mutation ${k} took too long`).toBeLessThan(1000);
    }
    expect(outcome.parsed + outcome.rejected).toBe(2000);
    expect(outcome.rejected).toBeGreaterThan(1000);
    expect(outcome.parsed).toBeGreaterThan(50);
    expect(performance.now() - started).toBeLessThan(20000);
  });
});
