#!/usr/bin/env node
// The package build: the Rust addon with the napi CLI (when cargo is available), then the
// TypeScript with tsup. `--native-only` skips tsup.
//
// Without cargo the addon step is skipped with a warning, so the monorepo still builds on a
// machine without Rust; createNativeBackend() then rejects with a message saying how to
// build the addon.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findCargo } from './cargo-path.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(pkg, 'package.json'));
const nativeOnly = process.argv.includes('--native-only');

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: pkg, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`\n@tessera/backend-native: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

function binOf(name, bin) {
  const pj = require.resolve(`${name}/package.json`);
  const meta = require(pj);
  const rel = typeof meta.bin === 'string' ? meta.bin : meta.bin[bin];
  return join(dirname(pj), rel);
}

const cargo = findCargo();
if (cargo === null) {
  console.warn(
    '@tessera/backend-native: cargo not found, so the Rust addon was NOT built ' +
      '(install Rust from https://rustup.rs, then rerun `pnpm --filter @tessera/backend-native build`). ' +
      'createNativeBackend() will reject until it is built.',
  );
  if (nativeOnly) process.exit(1);
} else {
  const cargoDir = dirname(cargo);
  const sep = process.platform === 'win32' ? ';' : ':';
  const env = {
    ...process.env,
    // the napi CLI spawns `cargo` from PATH
    PATH: cargo.includes('/') || cargo.includes('\\') ? `${cargoDir}${sep}${process.env.PATH ?? ''}` : process.env.PATH,
    CARGO_BUILD_JOBS: process.env.CARGO_BUILD_JOBS ?? '2',
  };
  run(process.execPath, [
    binOf('@napi-rs/cli', 'napi'), 'build', '--platform', '--release',
    '--manifest-path', 'native/Cargo.toml',
    '--package-json-path', 'package.json',
    '--target-dir', 'native/target',
    '--output-dir', 'build',
  ], env);
}

if (!nativeOnly) run(process.execPath, [binOf('tsup', 'tsup')]);
