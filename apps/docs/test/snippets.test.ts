/**
 * Every ```ts block of the guides runs: each is written to a temporary module inside this
 * package (so `tessera` and the scoped packages resolve to the workspace builds) and executed
 * in its own Node process with tsx. A block fails the test if it throws, rejects or prints
 * to stderr. Blocks marked `no-run` are deliberate fragments; there are only a few.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP } from './site.js';
import { extractSnippets } from './snippets.js';

const all = [...extractSnippets(join(APP, 'src/guide')), ...extractSnippets(join(APP, 'src/demos'))];
const runnable = all.filter((s) => s.run && s.file !== undefined);
const tmp = join(APP, '.snippets');

function runNode(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: APP, env: { ...process.env, NODE_ENV: 'production', XDG_RUNTIME_DIR: '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('the guides\' code blocks', () => {
  mkdirSync(tmp, { recursive: true });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('are almost all runnable (few deliberate fragments)', () => {
    const fragments = all.filter((s) => !s.run);
    expect(runnable.length).toBeGreaterThanOrEqual(20);
    expect(fragments.length).toBeLessThanOrEqual(4);
  });

  for (const s of runnable) {
    it(`${s.file}:${s.line} runs`, async () => {
      const file = join(tmp, `${s.file.replace(/\W/g, '_')}_${s.line}.ts`);
      writeFileSync(file, `${s.code}\nexport {};\n`);
      const r = await runNode(file);
      // Harmless noise some environments print (Dawn without a usable Vulkan driver, XDG).
      const stderr = r.stderr.split('\n').filter((l) => l.trim() && !/XDG_RUNTIME_DIR|Vulkan|vulkan|MESA|libEGL|artificially reduced/.test(l)).join('\n');
      expect(r.code, `${s.file}:${s.line}\n${r.stdout}\n${r.stderr}`).toBe(0);
      expect(stderr, `${s.file}:${s.line}: stderr`).toBe('');
    }, 150_000);
  }
});
