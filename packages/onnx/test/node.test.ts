// saveOnnx (the Node entry): atomic write, same bytes as exportOnnx, loadable by path.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from '@tessera/core';
import { layers, sequential } from '@tessera/nn';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx, OnnxExportError, VERSION } from '../src/index.js';
import { saveOnnx } from '../src/node.js';
import { expectNoLeak, randomizeWeights, snapshot, useTestBackend } from './helpers.js';

let dir = '';
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'tessera-onnx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saveOnnx', () => {
  it('writes exactly exportOnnx\'s bytes, replaces an existing file, leaves no temporary file, and ORT loads the path', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 4, activation: 'relu', inputShape: [3] }), layers.dense({ units: 2 })]);
    randomizeWeights(m, 3);
    const path = join(dir, 'model.onnx');
    await writeFile(path, 'old contents');
    await saveOnnx(m, path, { inputNames: ['x'], outputNames: ['y'] });
    const onDisk = new Uint8Array(await readFile(path));
    expect(onDisk).toEqual(await exportOnnx(m, { inputNames: ['x'], outputNames: ['y'] }));
    expect(await readdir(dir)).toEqual(['model.onnx']);
    const session = await ort.InferenceSession.create(path);
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    await session.release();
    m.dispose();
    expectNoLeak(before);
  });

  it('fails with the export error and writes nothing when the model cannot be exported', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 2, inputShape: [3], activation: (x) => x })]);
    const path = join(dir, 'bad.onnx');
    await expect(saveOnnx(m, path)).rejects.toThrow(OnnxExportError);
    await expect(saveOnnx(m, '')).rejects.toThrow(ArgumentError);
    expect(await readdir(dir)).not.toContain('bad.onnx');
    m.dispose();
    expectNoLeak(before);
  });

  it('VERSION matches package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
