/**
 * `@tessera/onnx/node`: writing ONNX files with `node:fs`. A separate entry so that the main
 * entry stays free of Node built-ins and bundles for browsers.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ArgumentError } from '@tessera/core';
import type { Model } from '@tessera/nn';
import { exportOnnx, type ExportOptions } from './export.js';

/**
 * Exports `model` (see `exportOnnx`) and writes it to `path` atomically: a temporary file
 * in the same directory is written and fsynced, renamed over `path`, and the directory is
 * fsynced, so a crash leaves either the old file or the new one, never a torn one.
 * @example await saveOnnx(model, './model.onnx', { producerName: 'my-app' });
 */
export async function saveOnnx(model: Model, path: string, opts: ExportOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new ArgumentError('saveOnnx', `path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = await exportOnnx(model, opts);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // Make the rename itself durable; some platforms (Windows) cannot open a directory.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
}

export { type ExportOptions } from './export.js';
