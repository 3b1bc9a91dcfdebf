/**
 * Test set-up: points Dawn (the npm package `webgpu`) at Mesa's lavapipe when it is installed,
 * so the WebGPU cases run on machines without a GPU. When no driver is found the WebGPU
 * backend fails to start and those cases are skipped with the reason printed (see backends.ts).
 */
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/share/vulkan/icd.d/lvp_icd.aarch64.json'];
if (!process.env.VK_ICD_FILENAMES) {
  const icd = CANDIDATES.find((f) => existsSync(f));
  if (icd !== undefined) process.env.VK_ICD_FILENAMES = icd;
}
process.env.XDG_RUNTIME_DIR ??= '/tmp';
