// Matmul GFLOP/s of the wasm backend at 128, 512 and 1024 (square, float32), on the calling
// thread alone and with the worker pool. Run with `pnpm --filter @tessera/backend-wasm bench`
// (`node --experimental-wasm-relaxed-simd bench/matmul.mjs` measures the relaxed-SIMD build on Node 20).
// Each figure is the median of several timed calls after warm-up; `cpu/wall` is the process
// CPU time over wall time during the pool runs (≈ threads when the machine is otherwise idle;
// lower means other load shared the cores and the pool figure is pessimistic).
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createWasmBackend } from '../dist/index.js';

const SIZES = [128, 512, 1024];
const cores = availableParallelism();

function view(buf, shape) {
  const strides = shape.length === 2 ? [shape[1], 1] : [1];
  return { buf, dtype: 'float32', shape, strides, offset: 0, size: shape.reduce((a, b) => a * b, 1) };
}

async function measure(threads) {
  const be = await createWasmBackend({ threads });
  const out = {};
  let cpu = 0, wall = 0;
  for (const n of SIZES) {
    const data = new Float32Array(n * n);
    for (let i = 0; i < data.length; i++) data[i] = Math.random() - 0.5;
    const a = view(be.storage.upload('float32', data), [n, n]);
    const b = view(be.storage.upload('float32', data), [n, n]);
    const c = view(be.storage.alloc('float32', n * n), [n, n]);
    const reps = n <= 128 ? 200 : n <= 512 ? 15 : 7;
    const inner = n <= 128 ? 20 : 1;
    for (let i = 0; i < 3; i++) be.kernels.matmul(a, b, c);
    const times = [];
    const c0 = process.cpuUsage(), w0 = performance.now();
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      for (let k = 0; k < inner; k++) be.kernels.matmul(a, b, c);
      times.push((performance.now() - t) / inner);
    }
    const cu = process.cpuUsage(c0);
    cpu += (cu.user + cu.system) / 1000;
    wall += performance.now() - w0;
    times.sort((x, y) => x - y);
    const med = times[times.length >> 1];
    out[n] = (2 * n ** 3) / (med * 1e6);
    for (const v of [a, b, c]) be.storage.release(v.buf);
  }
  const threadsUsed = be.threads, relaxed = be.relaxedSimd;
  be.dispose();
  return { gflops: out, threads: threadsUsed, relaxed, cpuRatio: cpu / wall };
}

/** Share of CPU time the whole machine spent idle over `ms` (Linux), or null. */
async function machineIdle(ms) {
  if (!existsSync('/proc/stat')) return null;
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  const total = b.reduce((s, v, i) => s + v - a[i], 0);
  return total > 0 ? (b[3] - a[3]) / total : null;
}

const idle = await machineIdle(1000);
const single = await measure(1);
const pool = await measure(Math.max(2, cores));
console.log(`wasm backend matmul, float32, square (machine: ${cores} logical CPUs; ${single.relaxed ? 'relaxed-SIMD build, FMA' : 'plain SIMD build, mul + add'})`);
console.log(`${'n'.padStart(6)} ${'1 thread'.padStart(12)} ${`pool (${pool.threads})`.padStart(12)}`);
for (const n of SIZES) {
  console.log(`${String(n).padStart(6)} ${single.gflops[n].toFixed(1).padStart(8)} GF/s ${pool.gflops[n].toFixed(1).padStart(8)} GF/s`);
}
console.log(`cpu/wall during pool runs: ${pool.cpuRatio.toFixed(2)} (ideal ${pool.threads}); single: ${single.cpuRatio.toFixed(2)} (ideal 1)`);
if (idle !== null) console.log(`machine idle before the runs: ${(100 * idle).toFixed(0)}%${idle < 0.9 ? ' (other load: figures are pessimistic)' : ''}`);
