import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// Headless Debian Chromium loads the built package: one thread and the COOP/COEP-isolated
// worker pool, then the fallback to one thread on a page that is not isolated.
it('runs in headless Chromium, pooled when cross-origin isolated and single-threaded otherwise', () => {
  const script = fileURLToPath(new URL('../scripts/browser-smoke.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stdout + r.stderr).toContain('browser smoke: 2 passed, 0 failed');
  expect(r.status).toBe(0);
});
