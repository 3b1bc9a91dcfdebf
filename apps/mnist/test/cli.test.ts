import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { init, memory } from 'tessera';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, parseArgs, predict, train } from '../src/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tessera-mnist-app-'));
beforeAll(() => init());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mnist app', () => {
  it('parses flags (pnpm passes a leading --) and rejects bad ones', () => {
    const c = parseArgs(['--', '--epochs', '3', '--batch-size=64', '--model', 'cnn', '--train-size', '1000', '--out', 'x', '--backend', 'js']);
    expect(c.command).toBe('train');
    if (c.command !== 'train') return;
    expect(c.options).toMatchObject({ epochs: 3, batchSize: 64, model: 'cnn', trainSize: 1000, out: 'x', backend: 'js' });
    const p = parseArgs(['predict', '--count', '5', '--model-dir', 'm']);
    expect(p).toMatchObject({ command: 'predict', options: { count: 5, modelDir: 'm' } });
    expect(parseArgs(['--help']).command).toBe('help');
    expect(() => parseArgs(['--epochs', '0'])).toThrow(/--epochs needs an integer >= 1/);
    expect(() => parseArgs(['--model', 'rnn'])).toThrow(/mlp or cnn/);
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown option '--frobnicate'/);
    expect(() => parseArgs(['--epochs'])).toThrow(/'--epochs <value>' argument missing/);
    expect(() => parseArgs(['predict', 'extra'])).toThrow(/unexpected argument "extra"/);
    expect(() => parseArgs(['fit'])).toThrow(/unknown command "fit"/);
  });

  it('builds the classic MLP and CNN', () => {
    const mlp = buildModel('mlp');
    expect(mlp.countParams()).toBe(101770);
    const cnn = buildModel('cnn');
    expect(cnn.countParams()).toBe(34826);
    mlp.dispose();
    cnn.dispose();
  });

  it('trains, evaluates, saves the model and the curves, then predicts from the saved model', async () => {
    const lines: string[] = [];
    const print = (l: string) => void lines.push(l);
    const out = path.join(dir, 'model');
    const opts = parseArgs(['--epochs', '2', '--train-size', '2000', '--test-size', '500', '--out', out, '--quiet', '--seed', '1'], print);
    if (opts.command !== 'train') throw new Error('expected train');
    const r = await train(opts.options);
    const before = memory().numTensors;
    expect(r.history.loss).toHaveLength(2);
    expect(r.history.val_accuracy).toHaveLength(2);
    expect(r.testAccuracy).toBeGreaterThan(0.8);
    expect(existsSync(path.join(out, 'model.json'))).toBe(true);
    expect(readFileSync(path.join(out, 'curves.svg'), 'utf8')).toContain('<svg');
    expect(lines.join('\n')).toMatch(/Test loss: \d\.\d{4} - test accuracy: 0\.\d{4}/);
    const p = await predict({ backend: 'js', modelDir: out, count: 8, print });
    expect(p.predictions).toHaveLength(8);
    expect(lines.some((l) => /predicted \d \(\d+\.\d%\)\s+label \d/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Accuracy on these 8: \d+\.\d%$/);
    expect(memory().numTensors).toBe(before);
  });
});
