#!/usr/bin/env node
// Benchmarks the native backend (built package: run `pnpm --filter @tessera/backend-native
// build` first): matmul GFLOP/s at 128/512/1024 on 1 and all threads (plain and with the
// fused bias+relu epilogue), a conv2d, the cost of running long kernels on the worker
// thread instead of the JS thread, and the per-call overhead of small kernels.
//
// Kernels above the async threshold return before they have run, so every timed call here
// ends with a 1-element readSync: the times are those of finished work.
//
//   node scripts/bench.mjs            # all of it
//   node scripts/bench.mjs --quick    # fewer repetitions
//
// This machine may be shared: check `uptime` first; medians of several runs are reported.
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';

const { createNativeBackend } = await import('../dist/index.js');
const quick = process.argv.includes('--quick');

const contiguous = (shape) => {
  const s = new Array(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
};
const view = (buf, shape, dtype = 'float32') => ({ buf, dtype, shape, strides: contiguous(shape), offset: 0, size: shape.reduce((a, b) => a * b, 1) });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rand = (n) => Float32Array.from({ length: n }, (_, i) => (((i * 2654435761) >>> 0) / 4294967296) * 2 - 1);

/**
 * Wall time per call of `fn` (median and best of `reps` runs of at least `minMs` each), and
 * process CPU time per call (all threads; median). On a busy machine wall time mostly
 * measures the neighbours; `flop / cpu time` is what the kernel does per core it gets.
 */
function timeBoth(fn, { reps, minMs }) {
  fn();
  const wall = [], cpu = [];
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let t1 = t0;
    do {
      fn();
      n++;
      t1 = performance.now();
    } while (t1 - t0 < minMs);
    const c = process.cpuUsage(c0);
    wall.push((t1 - t0) / n);
    cpu.push((c.user + c.system) / 1000 / n);
  }
  return { median: median(wall), best: Math.min(...wall), cpu: median(cpu) };
}
const time = (fn, opts) => timeBoth(fn, opts).median;

const hw = (await createNativeBackend()).info;
console.log(`@tessera/backend-native bench: gemm ${hw.gemm}, avx512 ${hw.avx512}, ${hw.hardwareThreads} hardware threads, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const threadCounts = [...new Set([1, hw.hardwareThreads])];
const rows = [];
for (const threads of threadCounts) {
  const be = await createNativeBackend({ threads });
  const { storage: s, kernels: k, fused: f } = be;
  for (const n of [128, 512, 1024]) {
    const a = s.upload('float32', rand(n * n));
    const b = s.upload('float32', rand(n * n));
    const bias = s.upload('float32', rand(n));
    const c = s.alloc('float32', n * n);
    const va = view(a, [n, n]), vb = view(b, [n, n]), vc = view(c, [n, n]), vbias = view(bias, [n]);
    const opts = { reps: quick ? 3 : 9, minMs: n >= 1024 ? 60 : 25 };
    const plain = timeBoth(() => {
      k.matmul(va, vb, vc);
      s.readSync(c, 'float32', 0, 1);
    }, opts);
    const fused = timeBoth(() => {
      f.matmulFused(va, vb, vbias, 'relu', vc);
      s.readSync(c, 'float32', 0, 1);
    }, opts);
    const flop = 2 * n * n * n;
    rows.push({ threads, n, ms: plain.median, gflops: flop / plain.median / 1e6, best: flop / plain.best / 1e6, perCpu: flop / plain.cpu / 1e6, fusedGflops: flop / fused.median / 1e6, fusedBest: flop / fused.best / 1e6 });
    for (const x of [a, b, bias, c]) s.release(x);
  }
  be.dispose();
}
console.log('\nmatmul (float32, square, row-major; GFLOP/s = 2n³/time; median and best wall time of the runs;');
console.log('"per CPU-s" = 2n³ / process CPU time, i.e. GFLOP/s per core actually received)');
console.log('threads      n  median ms  GFLOP/s median   best  per CPU-s   fused bias+relu median   best');
for (const r of rows) {
  console.log(`${String(r.threads).padStart(7)} ${String(r.n).padStart(6)} ${r.ms.toFixed(3).padStart(10)} ${r.gflops.toFixed(1).padStart(14)} ${r.best.toFixed(1).padStart(6)} ${r.perCpu.toFixed(1).padStart(10)} ${r.fusedGflops.toFixed(1).padStart(24)} ${r.fusedBest.toFixed(1).padStart(6)}`);
}

{
  // a small CNN layer: [32, 28, 28, 16] * [3, 3, 16, 32], same padding (stride 1, then 2)
  console.log('\nconv2d [32,28,28,16] x [3,3,16,32] same');
  for (const threads of threadCounts) {
    const be = await createNativeBackend({ threads });
    const { storage: s, fused: f } = be;
    const x = s.upload('float32', rand(32 * 28 * 28 * 16));
    const w = s.upload('float32', rand(3 * 3 * 16 * 32));
    const y = s.alloc('float32', 32 * 28 * 28 * 32);
    const p = { window: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1] };
    const vx = view(x, [32, 28, 28, 16]), vw = view(w, [3, 3, 16, 32]), vy = view(y, [32, 28, 28, 32]);
    const done = (buf) => s.readSync(buf, 'float32', 0, 1);
    const ms = time(() => (f.conv2d(vx, vw, p, vy), done(y)), { reps: quick ? 3 : 7, minMs: 30 });
    const fms = time(() => (f.conv2dBackpropFilter(vx, vy, p, vw), done(w)), { reps: quick ? 3 : 7, minMs: 30 });
    const ims = time(() => (f.conv2dBackpropInput(vy, vw, p, vx), done(x)), { reps: quick ? 3 : 7, minMs: 30 });
    const flop = 2 * 32 * 28 * 28 * 32 * 3 * 3 * 16;
    console.log(`  threads ${threads}: forward ${ms.toFixed(2)} ms (${(flop / ms / 1e6).toFixed(1)} GFLOP/s), backprop filter ${fms.toFixed(2)} ms (${(flop / fms / 1e6).toFixed(1)}), backprop input ${ims.toFixed(2)} ms (${(flop / ims / 1e6).toFixed(1)})`);
    // stride 2 ('same'): backprop input runs one GEMM per stride phase
    const p2 = { window: [3, 3], strides: [2, 2], pads: [0, 1, 0, 1], dilations: [1, 1] };
    const y2 = s.alloc('float32', 32 * 14 * 14 * 32);
    const vy2 = view(y2, [32, 14, 14, 32]);
    const ms2 = time(() => (f.conv2d(vx, vw, p2, vy2), done(y2)), { reps: quick ? 3 : 7, minMs: 30 });
    const fms2 = time(() => (f.conv2dBackpropFilter(vx, vy2, p2, vw), done(w)), { reps: quick ? 3 : 7, minMs: 30 });
    const ims2 = time(() => (f.conv2dBackpropInput(vy2, vw, p2, vx), done(x)), { reps: quick ? 3 : 7, minMs: 30 });
    const flop2 = flop / 4;
    console.log(`  threads ${threads}, stride 2: forward ${ms2.toFixed(2)} ms (${(flop2 / ms2 / 1e6).toFixed(1)} GFLOP/s), backprop filter ${fms2.toFixed(2)} ms (${(flop2 / fms2 / 1e6).toFixed(1)}), backprop input ${ims2.toFixed(2)} ms (${(flop2 / ims2 / 1e6).toFixed(1)})`);
    be.dispose();
  }
}

{
  // The same matmul on the worker thread (queued, then readSync) and on the JS thread
  // (asyncThreshold: Infinity), interleaved run by run so load changes hit both alike.
  console.log('\nmatmul on the worker thread vs on the JS thread (all threads; median of interleaved runs; ratio < 1: the worker path is slower)');
  const worker = await createNativeBackend({ asyncThreshold: 0 });
  const inline = await createNativeBackend({ asyncThreshold: Infinity });
  for (const n of [256, 512, 1024]) {
    const setup = (be) => {
      const a = be.storage.upload('float32', rand(n * n));
      const c = be.storage.alloc('float32', n * n);
      const va = view(a, [n, n]), vc = view(c, [n, n]);
      return { be, bufs: [a, c], run: () => (be.kernels.matmul(va, va, vc), be.storage.readSync(c, 'float32', 0, 1)) };
    };
    const w = setup(worker), i = setup(inline);
    const tw = [], ti = [];
    for (let r = 0; r < (quick ? 5 : 15); r++) {
      tw.push(time(w.run, { reps: 1, minMs: n >= 1024 ? 40 : 15 }));
      ti.push(time(i.run, { reps: 1, minMs: n >= 1024 ? 40 : 15 }));
    }
    const [mw, mi] = [median(tw), median(ti)];
    console.log(`  n ${String(n).padStart(4)}: worker ${mw.toFixed(3)} ms, JS thread ${mi.toFixed(3)} ms, JS-thread/worker time ratio ${(mi / mw).toFixed(3)}`);
    for (const x of [w, i]) for (const b of x.bufs) x.be.storage.release(b);
  }
  worker.dispose();
  inline.dispose();
}

{
  console.log('\nper-call overhead (µs per call, median; 1-element operands)');
  const be = await createNativeBackend();
  const { storage: s, kernels: k } = be;
  const a = s.upload('float32', new Float32Array([1]));
  const b = s.upload('float32', new Float32Array([2]));
  const o = s.alloc('float32', 1);
  const va = view(a, [1]), vb = view(b, [1]), vo = view(o, [1]);
  const va2 = view(a, [1, 1, 1]), vb2 = { ...view(b, [1, 1, 1]), strides: [0, 0, 0] }, vo2 = view(o, [1, 1, 1]);
  const N = quick ? 100_000 : 1_000_000;
  const per = (fn) => time(() => { for (let i = 0; i < N; i++) fn(); }, { reps: 5, minMs: 0 }) * 1000 / N;
  const results = {
    'native noop (raw Node-API call)': per(() => be.noop()),
    'kernels.fill(out[1], 3)': per(() => k.fill(vo, 3)),
    'kernels.binary(add, [1], [1])': per(() => k.binary('add', va, vb, vo)),
    'kernels.binary(mul, rank 3, broadcast)': per(() => k.binary('mul', va2, vb2, vo2)),
    'kernels.unary(exp, [1])': per(() => k.unary('exp', va, vo)),
    'storage.alloc + release (4 bytes)': per(() => s.release(s.alloc('float32', 1))),
    'storage.readSync 1 float': per(() => s.readSync(o, 'float32', 0, 1)),
  };
  for (const [name, us] of Object.entries(results)) console.log(`  ${name.padEnd(42)} ${us.toFixed(3)} µs`);
  for (const x of [a, b, o]) s.release(x);
  be.dispose();
}
