// Compiles assembly/ (AssemblyScript) into two WebAssembly modules and inlines them, as
// base64, into build/wasm-binaries.ts (bundled into dist by tsup, so the package loads in
// Node and browsers without a bundler plugin). The .wasm files are also left in build/.
//   single: memory imported, not shared (runs everywhere; one thread)
//   shared: memory imported as shared, `threads` feature (the worker pool)
//   relaxed: the single build with `relaxed-simd` (FMA in the GEMM micro-kernel), used where
//     the engine supports it; shipped as the few function bodies that differ
// Skips the compile when every output is newer than every source (pass --force to rebuild).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'assembly');
const outDir = join(root, 'build');
const tsOut = join(outDir, 'wasm-binaries.ts');
/** Largest memory in 64 KiB pages (2 GiB keeps every pointer a positive int32). */
const MAX_PAGES = 32768;

const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => join(srcDir, f));
const inputs = [...sources, fileURLToPath(import.meta.url)];
const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
const force = process.argv.includes('--force');
if (!force && existsSync(tsOut) && statSync(tsOut).mtimeMs > newest) {
  console.log('backend-wasm: wasm up to date');
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
const asc = (await import('assemblyscript/asc')).default;
const common = ['assembly/index.ts', '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--importMemory', '--initialMemory', '1'];
const targets = {
  single: [...common, '-o', 'build/tessera.wasm'],
  shared: [...common, '--enable', 'threads', '--sharedMemory', '--maximumMemory', String(MAX_PAGES), '-o', 'build/tessera-mt.wasm'],
  relaxed: [...common, '--enable', 'relaxed-simd', '-o', 'build/tessera-relaxed.wasm'],
  relaxedShared: [...common, '--enable', 'relaxed-simd', '--enable', 'threads', '--sharedMemory', '--maximumMemory', String(MAX_PAGES), '-o', 'build/tessera-relaxed-mt.wasm'],
};
const t0 = Date.now();
const bytes = {};
for (const [name, args] of Object.entries(targets)) {
  let err = '';
  const { error } = await asc.main(args, {
    stdout: { write: (s) => process.stdout.write(s) },
    stderr: { write: (s) => { err += s; } },
    baseDir: root,
  });
  if (error) {
    console.error(err);
    throw new Error(`backend-wasm: AssemblyScript build '${name}' failed: ${error.message}`);
  }
  bytes[name] = readFileSync(join(root, args[args.length - 1]));
}
// The two builds differ only in the memory import (shared flag and maximum). Ship the single
// build and the bytes that turn it into the shared one (checked here to reproduce it exactly).
const a = bytes.single, b = bytes.shared;
let pre = 0;
while (pre < a.length && a[pre] === b[pre]) pre++;
let suf = 0;
while (suf < a.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
const patch = { at: pre, remove: a.length - suf - pre, insert: [...b.subarray(pre, b.length - suf)] };
const rebuilt = Buffer.concat([a.subarray(0, patch.at), Buffer.from(patch.insert), a.subarray(patch.at + patch.remove)]);
if (!rebuilt.equals(b) || patch.insert.length > 64) {
  throw new Error('backend-wasm: the shared build differs from the single one beyond the memory import; ship both');
}
if (patch.at + patch.remove > codeSection(a).start) throw new Error('backend-wasm: the shared patch reaches into the code section');

// The relaxed-SIMD build differs from the single one only in some function bodies of the code
// section (checked here): ship those bodies, and check that patching reproduces both the relaxed
// build and, with the shared patch on top, the relaxed threaded build.
const r = bytes.relaxed;
const ca = codeSection(a), cr = codeSection(r);
if (!a.subarray(0, ca.start).equals(r.subarray(0, cr.start)) || !a.subarray(ca.end).equals(r.subarray(cr.end))) {
  throw new Error('backend-wasm: the relaxed-SIMD build differs from the single one outside the code section');
}
const ba = codeBodies(a, ca), br = codeBodies(r, cr);
if (ba.length !== br.length) throw new Error('backend-wasm: the relaxed-SIMD build has a different function count');
const relaxedBodies = [];
for (let i = 0; i < ba.length; i++) if (!ba[i].equals(br[i])) relaxedBodies.push([i, br[i].toString('base64')]);
const relaxedRebuilt = replaceBodies(a, new Map(relaxedBodies.map(([i, b64]) => [i, Buffer.from(b64, 'base64')])));
const relaxedSharedRebuilt = Buffer.concat([relaxedRebuilt.subarray(0, patch.at), Buffer.from(patch.insert), relaxedRebuilt.subarray(patch.at + patch.remove)]);
if (!relaxedRebuilt.equals(r) || !relaxedSharedRebuilt.equals(bytes.relaxedShared)) {
  throw new Error('backend-wasm: patching the single build does not reproduce the relaxed-SIMD builds');
}

const ts = `// Generated by scripts/build-wasm.mjs from assembly/*.ts; do not edit.
/** Base64 of the kernel module (imports a non-shared memory, env.memory). */
export const WASM_SINGLE = '${a.toString('base64')}';
/** Byte patch that turns WASM_SINGLE into the threaded module (its memory import becomes shared). */
export const SHARED_PATCH = ${JSON.stringify(patch)};
/** Maximum memory, in 64 KiB pages, the threaded module declares. */
export const MAX_PAGES = ${MAX_PAGES};
/**
 * Function bodies (index in the code section, base64 of the size-prefixed body) that turn
 * WASM_SINGLE into the relaxed-SIMD build (FMA GEMM micro-kernel).
 */
export const RELAXED_BODIES: readonly (readonly [number, string])[] = ${JSON.stringify(relaxedBodies)};
`;
writeFileSync(tsOut, ts);
console.log(`backend-wasm: built tessera.wasm (${a.length} B; threaded variant = ${patch.insert.length}-byte patch; relaxed-SIMD variant = ${relaxedBodies.length} function bodies, ${relaxedBodies.reduce((n, [, b]) => n + b.length, 0)} base64 chars) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

/** Unsigned LEB128 at `pos`: [value, position after it]. */
function leb(buf, pos) {
  let v = 0, shift = 0, byte;
  do { byte = buf[pos++]; v += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
  return [v, pos];
}
function lebBytes(v) {
  const out = [];
  do { let byte = v & 0x7f; v = Math.floor(v / 128); if (v > 0) byte |= 0x80; out.push(byte); } while (v > 0);
  return Buffer.from(out);
}
/** The code section (id 10): start of its id byte, start of its payload, end. */
function codeSection(buf) {
  let pos = 8;
  while (pos < buf.length) {
    const id = buf[pos];
    const [size, payload] = leb(buf, pos + 1);
    if (id === 10) return { start: pos, payload, end: payload + size };
    pos = payload + size;
  }
  throw new Error('backend-wasm: no code section');
}
/** The size-prefixed function bodies of a code section. */
function codeBodies(buf, sec) {
  let [count, pos] = leb(buf, sec.payload);
  const out = [];
  for (let i = 0; i < count; i++) {
    const [size, body] = leb(buf, pos);
    out.push(buf.subarray(pos, body + size));
    pos = body + size;
  }
  return out;
}
/** `buf` with the given size-prefixed bodies replaced (the same algorithm as src/wasm-patch.ts). */
function replaceBodies(buf, repl) {
  const sec = codeSection(buf);
  const bodies = codeBodies(buf, sec).map((b, i) => repl.get(i) ?? b);
  const payload = Buffer.concat([lebBytes(bodies.length), ...bodies]);
  return Buffer.concat([buf.subarray(0, sec.start), Buffer.from([10]), lebBytes(payload.length), payload, buf.subarray(sec.end)]);
}
