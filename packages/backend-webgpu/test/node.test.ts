import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as core from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { runTraining } from './shared/train.js';

describe('a training step on Dawn + lavapipe', () => {
  let be: WebGpuBackend;
  let previous: core.Backend | null = null;
  beforeAll(async () => {
    be = await createWebGpuBackend();
    try {
      previous = core.getBackend();
    } catch {
      previous = null;
    }
    core.setBackend(be);
  });
  afterAll(() => {
    if (previous) core.setBackend(previous);
    be?.dispose();
  });

  it('matmul + bias + relu, softmax cross-entropy, manual backward and fused Adam track a float64 reference', async () => {
    const before = be.storage.stats();
    const tensors = core.memory().numTensors;
    const r = await runTraining(core, 6);
    for (let i = 0; i < r.losses.length; i++) expect(Math.abs(r.losses[i] - r.refLosses[i])).toBeLessThan(1e-5);
    expect(r.losses[5]).toBeLessThan(r.losses[0]);
    expect(r.maxParamErr).toBeLessThan(1e-5);
    await be.flush();
    expect(core.memory().numTensors).toBe(tensors);
    expect(be.storage.stats().liveBuffers).toBe(before.liveBuffers);
  });

  it('the same step with fused kernels off gives the same losses', async () => {
    const fused = await runTraining(core, 3);
    const plain = await core.withFusedKernels(false, () => runTraining(core, 3));
    for (let i = 0; i < 3; i++) expect(Math.abs(fused.losses[i] - plain.losses[i])).toBeLessThan(1e-5);
  });
});

describe('why creation fails', () => {
  it('a GPU object without adapters gives a BackendError that says so', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireDevice({ gpu })).rejects.toBeInstanceOf(core.BackendError);
    await expect(acquireDevice({ gpu })).rejects.toThrow(/no WebGPU adapter/);
  });

  it('in Node, a Vulkan driver Dawn cannot use is reported with VK_ICD_FILENAMES and the install command', () => {
    // Dawn reads the Vulkan driver list once per process: ask a fresh one.
    const require = createRequire(import.meta.url);
    const tsx = require.resolve('tsx');
    const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const script = `import(${JSON.stringify(entry)}).then((m) => m.createWebGpuBackend()).then(() => console.log('CREATED'), (e) => console.log('REJECTED ' + e.name + ': ' + e.message));`;
    const run = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
      env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/vk_icd.json' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stdout).toContain('REJECTED BackendError');
    expect(run.stdout).toContain('VK_ICD_FILENAMES=/nonexistent/vk_icd.json');
    expect(run.stdout).toMatch(/install-vulkan\.sh|mesa-vulkan-drivers/);
  });
});
