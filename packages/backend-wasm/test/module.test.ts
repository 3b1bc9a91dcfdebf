/**
 * The module variants made at load time from the one shipped build: the threaded one (memory
 * import patched to shared) and the relaxed-SIMD one (GEMM micro-kernel bodies swapped in) must
 * equal, byte for byte, what the AssemblyScript compiler produced for them (build/*.wasm, left
 * there by scripts/build-wasm.mjs), and the relaxed-SIMD feature probe must agree with the engine.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { moduleBytes, relaxedSimdSupported } from '../src/module.js';
import { replaceFunctionBodies } from '../src/wasm-patch.js';

const built = (name: string) => new Uint8Array(readFileSync(new URL(`../build/${name}`, import.meta.url)));

describe('kernel module variants', () => {
  it('reproduce the compiler output for every (memory, SIMD) combination', () => {
    expect(moduleBytes('single')).toEqual(built('tessera.wasm'));
    expect(moduleBytes('shared')).toEqual(built('tessera-mt.wasm'));
    expect(moduleBytes('single', true)).toEqual(built('tessera-relaxed.wasm'));
    expect(moduleBytes('shared', true)).toEqual(built('tessera-relaxed-mt.wasm'));
    expect(moduleBytes('single', true)).not.toEqual(moduleBytes('single'));
  });

  it('replaceFunctionBodies rejects an index past the last function and a binary without code', () => {
    const single = moduleBytes('single');
    expect(() => replaceFunctionBodies(single, new Map([[1e6, new Uint8Array([2, 0, 11])]]))).toThrow(/function body 1000000 is out of range/);
    const empty = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    expect(() => replaceFunctionBodies(empty, new Map())).toThrow(/no code section/);
    // Replacing nothing is the identity.
    expect(replaceFunctionBodies(single, new Map())).toEqual(single);
  });

  it('detects relaxed SIMD exactly where the engine validates it', () => {
    const major = Number(process.versions.node.split('.')[0]);
    const flagged = process.execArgv.includes('--experimental-wasm-relaxed-simd');
    expect(relaxedSimdSupported()).toBe(flagged || major >= 22);
    expect(WebAssembly.validate(moduleBytes('single', true) as BufferSource)).toBe(relaxedSimdSupported());
  });
});
