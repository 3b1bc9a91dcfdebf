/**
 * The Rust crate's own unit tests (`cargo test --release`), run as part of the package's
 * test command: GEMM micro-kernels at ragged sizes in every layout and epilogue (portable,
 * AVX2 and AVX-512 paths the CPU has), SIMD transcendentals, threefry known answers, the
 * thread pool, the worker queue (order, poisoning), storage fences, stale and foreign handles,
 * and the view iterator.
 * cargo is found the way the build finds it (`$CARGO`, `PATH`, `~/.cargo/bin`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

it('cargo test --release passes, micro-kernels at ragged sizes included', () => {
  const r = spawnSync(process.execPath, [join(pkg, 'scripts/cargo.mjs'), 'test', '--release', '--manifest-path', 'native/Cargo.toml'], {
    cwd: pkg,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const log = `${r.stdout}\n${r.stderr}`;
  expect(r.status, log.slice(-4000)).toBe(0);
  const m = /test result: ok\. (\d+) passed; 0 failed/.exec(r.stdout);
  expect(m, log.slice(-4000)).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThanOrEqual(14);
  for (const name of ['gemm::tests::ragged_sizes_all_layouts', 'gemm::tests::simd_kernels_ragged', 'queue::tests::runs_in_order_and_poisons_failed_outputs', 'storage::tests::frees_wait_for_their_fence', 'storage::tests::stale_handles_of_a_reused_slot_are_rejected', 'storage::tests::handles_of_another_storage_are_rejected']) {
    expect(r.stdout).toMatch(new RegExp(`test ${name.replace(/:/g, '\\:')} \\.\\.\\. ok`));
  }
}, 900_000);
