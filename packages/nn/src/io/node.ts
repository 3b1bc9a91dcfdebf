/**
 * Node file-system storage for models, loaded with dynamic `import()` so browser bundles
 * never reach `node:fs`. A saved model is a directory with `model.json` and a weights file
 * `weights-<crc32>.safetensors`. Every file is written atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory), and the weights file gets a new name
 * whenever its content changes, so a crash at any point leaves either the old model or the
 * new one, never a mix or a half-written file.
 * @module
 */
import { ArgumentError, FormatError } from '@tessera/core';
import type { Model } from '../engine/model.js';
import type { SafeTensor } from '@tessera/data';
import { buildModel, checkWeights, type LoadOptions, type ModelJson, modelToArtifacts, parseModelJson, type SaveOptions } from './artifacts.js';

type Fs = typeof import('node:fs/promises');
type PathMod = typeof import('node:path');

let mods: Promise<{ fs: Fs; path: PathMod }> | null = null;
function node(): Promise<{ fs: Fs; path: PathMod }> {
  mods ??= Promise.all([import('node:fs/promises'), import('node:path')]).then(([fs, path]) => ({ fs, path }));
  return mods;
}

let tmpCounter = 0;

/**
 * Writes a file atomically: a temporary file next to it, fsync, rename over the target, then
 * fsync of the directory. Readers see the old content or the new, never a partial file.
 * @example await writeFileAtomic('out/model.json', JSON.stringify(json));
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const { fs, path } = await node();
  const dir = path.dirname(path.resolve(file));
  await fs.mkdir(dir, { recursive: true });
  const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
  const tmp = path.join(dir, `.${path.basename(file)}.${pid}.${Date.now()}.${tmpCounter++}.tmp`);
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(fs, dir);
}

async function syncDir(fs: Fs, dir: string): Promise<void> {
  let dh: Awaited<ReturnType<Fs['open']>> | null = null;
  try {
    dh = await fs.open(dir, 'r');
    await dh.sync();
  } catch {
    // Directories cannot be opened or synced on some platforms (Windows); the rename stands.
  } finally {
    await dh?.close();
  }
}

/**
 * Appends text to a file (creating it and its directory), flushed to disk.
 * @example await appendText('logs/train.csv', 'epoch,loss\n');
 */
export async function appendText(file: string, text: string): Promise<void> {
  const { fs, path } = await node();
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const fh = await fs.open(file, 'a');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Reads a text file.
 * @example const csv = await readText('training.csv');
 */
export async function readText(file: string): Promise<string> {
  const { fs } = await node();
  return fs.readFile(file, 'utf8');
}

/**
 * Saves a model to directory `dir`: `model.json` plus `weights-<crc32>.safetensors`, both
 * written atomically; older weights files in the directory are removed afterwards.
 * @example await saveModel(model, './mnist-model');
 */
export async function saveModel(model: Model, dir: string, opts: SaveOptions = {}): Promise<{ modelJson: string; weights: string }> {
  if (typeof dir !== 'string' || dir.length === 0) throw new ArgumentError('save', `expected a directory path, got ${JSON.stringify(dir)}`);
  const { fs, path } = await node();
  const { modelJson, weights } = await modelToArtifacts(model, opts);
  const weightsName = `weights-${modelJson.weightsManifest.crc32}.safetensors`;
  modelJson.weightsManifest.file = weightsName;
  await fs.mkdir(dir, { recursive: true });
  const weightsPath = path.join(dir, weightsName);
  const jsonPath = path.join(dir, 'model.json');
  await writeFileAtomic(weightsPath, weights);
  await writeFileAtomic(jsonPath, `${JSON.stringify(modelJson, null, 2)}\n`);
  for (const f of await fs.readdir(dir)) {
    if (f !== weightsName && /^weights-[0-9a-f]{8}\.safetensors$/.test(f)) await fs.rm(path.join(dir, f), { force: true });
  }
  return { modelJson: jsonPath, weights: weightsPath };
}

/**
 * Loads a model saved with `model.save(dir)` (pass the directory or its `model.json`). A
 * truncated or corrupt file raises a FormatError that names it.
 * @example const m = await loadModel('./mnist-model');
 */
export async function loadModel(location: string, opts: LoadOptions = {}): Promise<Model> {
  const op = 'loadModel';
  const { json, tensors } = await readSavedModel(op, location);
  return buildModel(op, json, tensors, opts);
}

/**
 * Reads and checks a saved model directory (or its model.json): the parsed JSON and the
 * weights (length and CRC-32 checked). @internal
 */
export async function readSavedModel(op: string, location: string): Promise<{ json: ModelJson; tensors: Map<string, SafeTensor> }> {
  if (typeof location !== 'string' || location.length === 0) throw new ArgumentError(op, `expected a path, got ${JSON.stringify(location)}`);
  const { fs, path } = await node();
  let jsonPath = location;
  try {
    if ((await fs.stat(location)).isDirectory()) jsonPath = path.join(location, 'model.json');
  } catch {
    throw new ArgumentError(op, `no model at '${location}' (expected a directory with model.json)`);
  }
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch {
    throw new ArgumentError(op, `cannot read '${jsonPath}'; is '${location}' a saved model?`);
  }
  const json = parseModelJson(op, text, jsonPath);
  const file = json.weightsManifest.file;
  if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) throw new FormatError(op, `${jsonPath} names no valid weights file`);
  const weightsPath = path.join(path.dirname(jsonPath), file);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(weightsPath));
  } catch {
    throw new FormatError(op, `the weights file '${weightsPath}' named by ${jsonPath} is missing`);
  }
  const tensors = checkWeights(op, json, bytes, `the weights file '${weightsPath}'`);
  return { json, tensors };
}
