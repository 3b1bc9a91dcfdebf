// Matmul throughput of the js backend's kernels, called directly (no core in between).
// Run `pnpm --filter @tessera/backend-js bench` (builds first).
import { add, scalar, setBackend } from '@tessera/core';
import { jsBackend } from '../dist/index.js';

const be = jsBackend();
const { storage, kernels } = be;

function view(buf, shape) {
  const strides = [];
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { strides[d] = acc; acc *= shape[d]; }
  return { buf, dtype: 'float32', shape, strides, offset: 0, size: acc };
}

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

function benchMatmul(n) {
  const a = view(storage.upload('float32', random(n * n)), [n, n]);
  const b = view(storage.upload('float32', random(n * n)), [n, n]);
  const out = view(storage.alloc('float32', n * n), [n, n]);
  const flops = 2 * n * n * n;
  for (let i = 0; i < 3; i++) kernels.matmul(a, b, out);  // warm up
  const reps = Math.max(3, Math.round(2e9 / flops));
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    kernels.matmul(a, b, out);
    best = Math.min(best, performance.now() - t);
  }
  for (const v of [a, b, out]) storage.release(v.buf);
  return flops / (best / 1000) / 1e9;
}

function benchTinyAdd() {
  const a = view(storage.upload('float32', new Float32Array([1])), [1]);
  const b = view(storage.upload('float32', new Float32Array([2])), [1]);
  const out = view(storage.alloc('float32', 1), [1]);
  const reps = 2_000_000;
  for (let i = 0; i < 100_000; i++) kernels.binary('add', a, b, out);
  const t = performance.now();
  for (let i = 0; i < reps; i++) kernels.binary('add', a, b, out);
  const ns = ((performance.now() - t) * 1e6) / reps;
  for (const v of [a, b, out]) storage.release(v.buf);
  return ns;
}

for (const n of [128, 512, 1024]) console.log(`matmul ${n}x${n}x${n}: ${benchMatmul(n).toFixed(2)} GFLOP/s`);
console.log(`binary add, 1 element: ${benchTinyAdd().toFixed(0)} ns/call`);

/** A 1-element add through the whole core (checks, dtype, broadcast, output Tensor, dispose). */
function benchCoreAdd() {
  setBackend(be);
  const a = scalar(1);
  const b = scalar(2);
  const reps = 1_000_000;
  for (let i = 0; i < 100_000; i++) add(a, b).dispose();
  const t = performance.now();
  for (let i = 0; i < reps; i++) add(a, b).dispose();
  const ns = ((performance.now() - t) * 1e6) / reps;
  a.dispose();
  b.dispose();
  return ns;
}
console.log(`core add, 1 element (op + dispose): ${benchCoreAdd().toFixed(0)} ns/op`);
