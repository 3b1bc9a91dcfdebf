#!/usr/bin/env node
// Runs cargo with the given arguments (e.g. `node scripts/cargo.mjs test --release ...`),
// finding cargo even when ~/.cargo/bin is not on PATH; at most 2 parallel jobs unless
// CARGO_BUILD_JOBS says otherwise.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCargo } from './cargo-path.mjs';

const cargo = findCargo();
if (cargo === null) {
  console.error('cargo not found: install Rust (https://rustup.rs) or set $CARGO');
  process.exit(1);
}
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(cargo, process.argv.slice(2), {
  cwd: pkg,
  stdio: 'inherit',
  env: { ...process.env, CARGO_BUILD_JOBS: process.env.CARGO_BUILD_JOBS ?? '2' },
});
process.exit(r.status ?? 1);
