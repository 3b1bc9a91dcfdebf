/**
 * Replacing function bodies in a WebAssembly binary's code section: how the relaxed-SIMD
 * variant of the kernel module is made from the plain one at load time (the build ships only
 * the bodies that differ, and checks that this reproduces the relaxed build byte for byte).
 * @module
 */

/** Unsigned LEB128 at `pos`: [value, position after it]. */
function readLeb(buf: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buf[pos++]!;
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [v, pos];
}

function lebBytes(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

/**
 * `wasm` with the code section's function bodies at the given indices replaced by the given
 * size-prefixed bodies. Throws when the binary has no code section or an index is out of range.
 * @example const patched = replaceFunctionBodies(bytes, new Map([[39, bodyBytes]]));
 */
export function replaceFunctionBodies(wasm: Uint8Array, bodies: ReadonlyMap<number, Uint8Array>): Uint8Array {
  let pos = 8;
  while (pos < wasm.length) {
    const id = wasm[pos]!;
    const [size, payload] = readLeb(wasm, pos + 1);
    const end = payload + size;
    if (id !== 10) {
      pos = end;
      continue;
    }
    let [count, p] = readLeb(wasm, payload);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const [n, body] = readLeb(wasm, p);
      parts.push(bodies.get(i) ?? wasm.subarray(p, body + n));
      p = body + n;
    }
    for (const i of bodies.keys()) if (i < 0 || i >= count) throw new Error(`wasm backend: function body ${i} is out of range (${count} functions)`);
    const head = lebBytes(count);
    const payloadLen = head.length + parts.reduce((s, b) => s + b.length, 0);
    const secHead = [10, ...lebBytes(payloadLen)];
    const out = new Uint8Array(pos + secHead.length + payloadLen + (wasm.length - end));
    out.set(wasm.subarray(0, pos), 0);
    let o = pos;
    out.set(secHead, o);
    o += secHead.length;
    out.set(head, o);
    o += head.length;
    for (const b of parts) {
      out.set(b, o);
      o += b.length;
    }
    out.set(wasm.subarray(end), o);
    return out;
  }
  throw new Error('wasm backend: the module has no code section');
}
