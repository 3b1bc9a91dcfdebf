// Micro-benchmarks of the built backend (run `pnpm --filter @tessera/backend-webgpu bench`):
// matmul GFLOP/s, per-op latency of a recorded chain, and one read round trip. On a machine
// without a GPU it runs on Mesa's lavapipe (set VK_ICD_FILENAMES, or it is looked up).
import { existsSync } from 'node:fs';
import * as core from '@tessera/core';

if (!process.env.VK_ICD_FILENAMES) {
  const icd = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].find((f) => existsSync(f));
  if (icd) process.env.VK_ICD_FILENAMES = icd;
}
const { createWebGpuBackend } = await import('../dist/index.js');
const be = await createWebGpuBackend();
core.setBackend(be);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const n of [128, 256, 512, 1024]) {
  const a = core.randomUniform([n, n], { seed: 1 }), b = core.randomUniform([n, n], { seed: 2 });
  await core.matmul(a, b).data(); // compile + warm up
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const y = core.matmul(a, b);
    await y.data();
    times.push(performance.now() - t0);
    y.dispose();
  }
  const t = median(times);
  console.log(`matmul ${n}x${n}x${n}: ${(2 * n ** 3 / t / 1e6).toFixed(2)} GFLOP/s (${t.toFixed(1)} ms, read included)`);
  a.dispose(); b.dispose();
}

const x = core.tensor(new Float32Array(1024).fill(1), [1024]);
for (const len of [100, 1000]) {
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const made = [];
    const t0 = performance.now();
    let y = x;
    for (let i = 0; i < len; i++) { y = core.mul(y, x); made.push(y); }
    await y.data();
    runs.push((performance.now() - t0) / len);
    for (const m of made) m.dispose();
  }
  console.log(`chain of ${len} element-wise ops (1024 elements): ${(median(runs) * 1000).toFixed(0)} µs/op, recorded and run`);
}
const rt = [];
for (let r = 0; r < 20; r++) {
  const t0 = performance.now();
  const y = core.add(x, x);
  await y.data();
  rt.push(performance.now() - t0);
  y.dispose();
}
console.log(`one op + read round trip: ${median(rt).toFixed(2)} ms`);
console.log('counters', be.counters());
be.dispose();
