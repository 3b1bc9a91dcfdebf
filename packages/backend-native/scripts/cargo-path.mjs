// Locates cargo: $CARGO, then PATH, then ~/.cargo/bin (rustup's default, often not on the
// PATH of non-login shells and CI steps). Returns null when there is none.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** @returns {string | null} a cargo executable that runs, or null */
export function findCargo() {
  const exe = process.platform === 'win32' ? 'cargo.exe' : 'cargo';
  const candidates = [process.env.CARGO, exe, join(process.env.CARGO_HOME ?? join(homedir(), '.cargo'), 'bin', exe)];
  for (const c of candidates) {
    if (!c) continue;
    if (c.includes('/') || c.includes('\\')) {
      if (!existsSync(c)) continue;
    }
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return null;
}
