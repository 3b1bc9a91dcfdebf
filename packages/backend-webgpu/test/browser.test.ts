/**
 * The browser test: bundles test/browser/entry.ts with Vite, serves it from 127.0.0.1 and
 * runs it in headless Debian Chromium (`--enable-unsafe-webgpu`, SwiftShader) through
 * playwright-core: a subset of the conformance suite, the lifecycle checks and a
 * training-like step, all on `navigator.gpu`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageResult } from './browser/entry.js';

const CHROMIUM = '/usr/bin/chromium';
const here = fileURLToPath(new URL('.', import.meta.url));

describe('headless Chromium (navigator.gpu)', () => {
  let dir = '';
  let server: Server | null = null;
  let context: BrowserContext | null = null;
  let bundle = '';
  let url = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing; install Debian's Chromium with: sudo scripts/install-vulkan.sh (it runs apt-get install -y chromium)`);
    }
    dir = mkdtempSync(join(tmpdir(), 'tessera-webgpu-browser-'));
    await build({
      configFile: false,
      logLevel: 'error',
      root: here,
      resolve: { alias: { vitest: join(here, 'browser/vitest-stub.ts') } },
      build: {
        outDir: join(dir, 'site'),
        emptyOutDir: true,
        minify: false,
        target: 'es2022',
        lib: { entry: join(here, 'browser/entry.ts'), formats: ['es'], fileName: () => 'entry.js' },
        rollupOptions: { external: ['fs/promises', 'path'] },
      },
    });
    bundle = readFileSync(join(dir, 'site/entry.js'), 'utf8');
    const html = '<!doctype html><meta charset="utf-8"><title>tessera webgpu</title><script type="module" src="/entry.js"></script>';
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      } else if (path === '/entry.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'],
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the browser bundle does not contain Dawn (webgpu is loaded lazily, only in Node)', () => {
    expect(bundle).not.toMatch(/dawn\.node/);
    expect(bundle).not.toMatch(/from ['"]webgpu['"]/);
  });

  it('runs a conformance subset, the lifecycle checks and a training step on navigator.gpu', async () => {
    const page = await context!.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    const full = process.env.TESSERA_BROWSER_FULL === '1';
    await page.goto(full ? `${url}?full` : url);
    try {
      await page.waitForFunction(() => window.__result !== undefined, undefined, { timeout: full ? 1_800_000 : 240_000, polling: 250 });
    } catch (e) {
      const at = await page.evaluate(() => window.__progress).catch(() => '?');
      throw new Error(`the page did not finish (last step: ${at}): ${(e as Error).message}\n${logs.join('\n')}`);
    }
    const r = (await page.evaluate(() => window.__result)) as PageResult;
    console.log(`browser: adapter '${r.adapter}', ${r.cases.length} case runs, ${Math.round(r.ms)} ms in the page`);
    expect(r.error, logs.join('\n')).toBeUndefined();
    const failed = r.cases.filter((c) => !c.ok).map((c) => `${c.id} [${c.mode}]: ${c.message}`);
    expect(failed).toEqual([]);
    expect(r.cases.length).toBeGreaterThanOrEqual(60);
    expect(r.lifecycle.filter((l) => !l.ok)).toEqual([]);
    expect(r.trainingError).toBeUndefined();
    const t = r.training!;
    for (let i = 0; i < t.losses.length; i++) expect(Math.abs(t.losses[i] - t.refLosses[i])).toBeLessThan(1e-4);
    expect(t.losses[t.losses.length - 1]).toBeLessThan(t.losses[0]);
    expect(t.maxParamErr).toBeLessThan(1e-4);
  }, process.env.TESSERA_BROWSER_FULL === '1' ? 1_900_000 : 300_000);
});
