#!/usr/bin/env node
// Runs every vitest project once and prints the closing line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const report = 'reports/vitest.json';
mkdirSync('reports', { recursive: true });
rmSync(report, { force: true });
const run = spawnSync('pnpm', ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
});
if (!existsSync(report)) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const j = JSON.parse(readFileSync(report, 'utf8'));
// A file that failed to load has no assertion results; count it as one failure.
const broken = j.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
const failed = j.numFailedTests + broken;
const skipped = j.numPendingTests + j.numTodoTests;
console.log(`${j.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status === 0 && failed === 0 && j.numPassedTests > 0 ? 0 : 1);
