#!/usr/bin/env node
// Runs every vitest project once, then the PyTorch golden replays (and the gradient checks) again
// on each optional backend, and prints the closing line CI reads: "N passed, N failed" summed over all runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const GOLDEN_PROJECTS = ['@tessera/autograd', '@tessera/losses', '@tessera/optim', '@tessera/nn'];
// Which test files run again on each optional backend: the golden replays everywhere, and the
// finite-difference gradient check of every recorded op where reads can be synchronous.
const EXTRA_RUNS = { native: ['golden', 'test/ops.test'], wasm: ['golden', 'test/ops.test'], webgpu: ['golden'] };

function vitest(label, args, env = {}) {
  const report = `reports/vitest-${label}.json`;
  rmSync(report, { force: true });
  console.log(`\n=== vitest: ${label} ===`);
  const run = spawnSync('pnpm', ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args], {
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', ...env },
  });
  if (!existsSync(report)) return { passed: 0, failed: 1, skipped: 0, ok: false };
  const j = JSON.parse(readFileSync(report, 'utf8'));
  // A file that failed to load has no assertion results; count it as one failure.
  const broken = j.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  const failed = j.numFailedTests + broken;
  return { passed: j.numPassedTests, failed, skipped: j.numPendingTests + j.numTodoTests, ok: run.status === 0 && failed === 0 };
}

mkdirSync('reports', { recursive: true });
const runs = [vitest('all', process.argv.slice(2))];
for (const [backend, filters] of Object.entries(EXTRA_RUNS)) {
  runs.push(vitest(`on-${backend}`, [...GOLDEN_PROJECTS.flatMap((p) => ['--project', p]), ...filters], { TESSERA_TEST_BACKEND: backend }));
}
const total = runs.reduce((t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }), { passed: 0, failed: 0, skipped: 0 });
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(runs.every((r) => r.ok) && total.passed > 0 ? 0 : 1);
