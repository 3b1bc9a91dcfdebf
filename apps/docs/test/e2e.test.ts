/**
 * End-to-end: the built site served on 127.0.0.1 (cross-origin isolated), driven in
 * headless Debian Chromium through playwright-core. Every page loads without a console
 * error; the MNIST demo trains one epoch on each backend the browser offers and reaches the
 * stated accuracy; the drawing demo recognises real MNIST test digits drawn stroke by
 * stroke; the overfitting and fine-tuning demos run. Screenshots go to test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, DIST, ensureBuilt, pages } from './site.js';
// @ts-expect-error -- a plain .mjs module without types
import { serve } from '../scripts/serve.mjs';
import { rawSplit } from '../src/demos/lib/data.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(APP, 'test-artifacts');
/** What one epoch over the 6,000 demo images must reach on the 1,000 test images (Node: ~89%). */
const MNIST_MIN_ACCURACY = 0.85;
const ARGS = ['--enable-unsafe-webgpu', '--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

const measured: Record<string, unknown> = {};
let server: { url: string; close: () => Promise<void> } | null = null;
let context: BrowserContext | null = null;
let profile = '';

/** Opens a page and records console errors and uncaught exceptions. */
async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context!.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(server!.url + path, { waitUntil: 'load' });
  return { page, errors };
}

/** Waits until the demo is in one of `states` after at least `runs` runs were started. */
async function demoState(page: Page, demo: string, states: string[], timeout: number, runs = 0): Promise<string> {
  const sel = `[data-demo="${demo}"]`;
  return (await page.waitForFunction(([s, want, n]) => {
    const el = document.querySelector(s as string);
    const state = el?.getAttribute('data-state') ?? '';
    return Number(el?.getAttribute('data-runs') ?? 0) >= (n as number) && (want as string[]).includes(state) ? state : null;
  }, [sel, states, runs], { timeout, polling: 100 }).then((h) => h.jsonValue())) as string;
}

async function errorText(page: Page): Promise<string> {
  return (await page.locator('[data-test="error"]').allTextContents()).join('\n');
}

describe('the docs site in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or bash scripts/install-vulkan.sh at the repo root)`);
    measured.build = ensureBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await serve(DIST);
    profile = mkdtempSync(join(tmpdir(), 'tessera-docs-e2e-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 1000 } });
  }, 600_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    writeFileSync(join(ARTIFACTS, 'measured.json'), `${JSON.stringify(measured, null, 2)}\n`);
    console.log(`docs e2e measured: ${JSON.stringify(measured)}`);
  });

  it('serves every page without a console error', async () => {
    const list = pages();
    expect(list.length).toBeGreaterThanOrEqual(17);
    const bad: string[] = [];
    for (const p of list) {
      const { page, errors } = await open(p);
      // The demos mount their component after load; give them a moment to fail if they would.
      if (p.startsWith('demos/')) await page.waitForSelector('[data-demo]', { timeout: 30_000 });
      await page.waitForLoadState('networkidle');
      if (errors.length) bad.push(`${p}: ${errors.join(' | ')}`);
      await page.close();
    }
    expect(bad).toEqual([]);
    // The API reference is plain typedoc HTML.
    const { page, errors } = await open('api/index.html');
    expect(await page.title()).toMatch(/Tessera API/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains the MNIST MLP one epoch on every backend the browser offers', async () => {
    const { page, errors } = await open('demos/mnist.html');
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    await demoState(page, 'mnist', ['ready', 'error'], 60_000);
    const offered = await page.$$eval('[data-test="backend"] option', (os) => os.filter((o) => !(o as HTMLOptionElement).disabled).map((o) => (o as HTMLOptionElement).value));
    measured.mnistBackendsOffered = offered;
    expect(offered).toEqual(expect.arrayContaining(['js', 'wasm']));
    const results: Record<string, { accuracy: number; seconds: number }> = {};
    let runs = 0;
    for (const name of offered) {
      await page.selectOption('[data-test="backend"]', name);
      await page.click('[data-test="train"]');
      const state = await demoState(page, 'mnist', ['done', 'error'], 180_000, ++runs);
      expect(state, await errorText(page)).toBe('done');
      const r = page.locator('[data-test="result"]');
      expect(await r.getAttribute('data-backend')).toBe(name);
      results[name] = { accuracy: Number(await r.getAttribute('data-accuracy')), seconds: Number(await r.getAttribute('data-seconds')) };
      await page.screenshot({ path: join(ARTIFACTS, `mnist-${name}.png`), fullPage: true });
    }
    measured.mnist = results;
    // The stop button ends a run early (3 epochs asked; stopped within the first).
    await page.selectOption('[data-test="backend"]', 'js');
    await page.fill('input[type="number"]', '3');
    await page.click('[data-test="train"]');
    await page.waitForFunction(() => Number((document.querySelector('[data-test="progress"]') as HTMLProgressElement | null)?.value ?? 0) > 0.05, undefined, { timeout: 60_000, polling: 100 });
    await page.click('[data-test="stop"]');
    expect(await demoState(page, 'mnist', ['done', 'error'], 60_000, ++runs), await errorText(page)).toBe('done');
    expect(await page.getAttribute('[data-test="result"]', 'data-stopped')).toBe('true');
    expect(await page.textContent('[data-test="status"]')).toMatch(/^Stopped/);
    for (const [name, r] of Object.entries(results)) expect(r.accuracy, name).toBeGreaterThanOrEqual(MNIST_MIN_ACCURACY);
    expect(errors).toEqual([]);
    await page.close();
  }, 600_000);

  it('predicts real MNIST test digits drawn stroke by stroke on the canvas', async () => {
    const test = rawSplit(readFileSync(join(DIST, 'data/test-images.idx')), readFileSync(join(DIST, 'data/test-labels.idx')));
    const { page, errors } = await open('demos/draw.html');
    expect(await demoState(page, 'draw', ['ready', 'error'], 60_000)).toBe('ready');
    const canvas = (await page.locator('[data-test="canvas"]').boundingBox())!;
    const got: { index: number; label: number; predicted: number; probability: number }[] = [];
    for (const index of [0, 1, 2, 3, 4]) {
      await page.click('[data-test="clear"]');
      const label = test.labels[index]!;
      const px = test.pixels.subarray(index * 784, (index + 1) * 784);
      // Trace the digit: one horizontal stroke per run of ink on each row (10 canvas px per MNIST px).
      for (let y = 0; y < 28; y++) {
        for (let x = 0; x < 28; x++) {
          if (px[y * 28 + x]! < 128) continue;
          let end = x;
          while (end + 1 < 28 && px[y * 28 + end + 1]! >= 128) end++;
          const at = (col: number) => [canvas.x + ((col + 0.5) * canvas.width) / 28, canvas.y + ((y + 0.5) * canvas.height) / 28] as const;
          await page.mouse.move(...at(x));
          await page.mouse.down();
          await page.mouse.move(...at(end), { steps: Math.max(1, end - x) });
          await page.mouse.up();
          x = end;
        }
      }
      await page.waitForFunction(() => document.querySelector('[data-test="prediction"]') !== null, undefined, { timeout: 10_000 });
      await page.waitForTimeout(300); // the last stroke's prediction
      const predicted = Number(await page.getAttribute('[data-test="prediction"]', 'data-digit'));
      const bars = await page.locator('[data-test="probabilities"] span').allTextContents();
      got.push({ index, label, predicted, probability: Number.parseFloat(bars[predicted * 2 + 1] ?? '0') / 100 });
      await page.screenshot({ path: join(ARTIFACTS, `draw-test${index}-digit${label}.png`) });
    }
    measured.draw = got;
    for (const g of got) expect(g.predicted, `test image ${g.index} (a ${g.label})`).toBe(g.label);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('shows overfitting and its cure', async () => {
    const { page, errors } = await open('demos/overfitting.html');
    await demoState(page, 'overfit', ['ready', 'error'], 60_000);
    const out: Record<string, Record<string, number | boolean>> = {};
    let runs = 0;
    for (const v of ['plain', 'regularized']) {
      await page.click(`[data-test="run-${v}"]`);
      expect(await demoState(page, 'overfit', ['done', 'error'], 180_000, ++runs), await errorText(page)).toBe('done');
      const r = page.locator(`[data-test="result-${v}"]`);
      out[v] = {
        valLoss: Number(await r.getAttribute('data-val-loss')),
        bestValLoss: Number(await r.getAttribute('data-best-val-loss')),
        valAccuracy: Number(await r.getAttribute('data-val-accuracy')),
        epochs: Number(await r.getAttribute('data-epochs')),
        stoppedEarly: (await r.getAttribute('data-stopped-early')) === 'true',
      };
    }
    await page.screenshot({ path: join(ARTIFACTS, 'overfitting.png'), fullPage: true });
    measured.overfitting = out;
    const plain = out.plain!, reg = out.regularized!;
    // Without regularization the validation loss ends clearly above its minimum (the curves diverged) ...
    expect(plain.valLoss as number).toBeGreaterThan((plain.bestValLoss as number) * 1.05);
    // ... dropout + early stopping stop early and keep the best weights, with a lower validation loss.
    expect(reg.stoppedEarly).toBe(true);
    expect(reg.valLoss as number).toBeLessThan(plain.valLoss as number);
    expect(errors).toEqual([]);
    await page.close();
  }, 400_000);

  it('fine-tunes the shipped model on a few examples of new digits', async () => {
    const { page, errors } = await open('demos/finetune.html');
    expect(await demoState(page, 'finetune', ['ready', 'error'], 60_000), await errorText(page)).toBe('ready');
    await page.click('[data-test="run"]');
    expect(await demoState(page, 'finetune', ['done', 'error'], 180_000, 1), await errorText(page)).toBe('done');
    const r = page.locator('[data-test="result"]');
    const transfer = Number(await r.getAttribute('data-transfer'));
    const scratch = Number(await r.getAttribute('data-scratch'));
    measured.finetune = { transfer, scratch, perClass: 10 };
    await page.screenshot({ path: join(ARTIFACTS, 'finetune.png'), fullPage: true });
    // Five classes: chance is 20%. A frozen base + new head trained on 50 images must do far better.
    expect(transfer).toBeGreaterThan(0.5);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
