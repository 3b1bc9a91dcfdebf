/**
 * Test set-up: makes Dawn (the npm package `webgpu`) use Mesa's lavapipe, the CPU Vulkan
 * driver that `scripts/install-vulkan.sh` installs. Without it there is no adapter on a
 * machine without a GPU, and Dawn would silently fall back to whatever driver it finds, so a
 * missing driver is an error here, never a skip.
 */
import { existsSync } from 'node:fs';

const CANDIDATES = [
  '/usr/share/vulkan/icd.d/lvp_icd.json',
  '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
  '/usr/share/vulkan/icd.d/lvp_icd.aarch64.json',
];

const given = process.env.VK_ICD_FILENAMES;
if (given !== undefined && given !== '') {
  for (const f of given.split(':')) {
    if (!existsSync(f)) throw new Error(`VK_ICD_FILENAMES names ${f}, which does not exist. Install the CPU Vulkan driver with: sudo scripts/install-vulkan.sh (Debian 12), then run the tests again.`);
  }
} else {
  const icd = CANDIDATES.find((f) => existsSync(f));
  if (icd === undefined) {
    throw new Error(
      'The CPU Vulkan driver (Mesa lavapipe >= 23) that the WebGPU tests run on is not installed. '
      + 'Install it with: sudo scripts/install-vulkan.sh   (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1), '
      + 'or set VK_ICD_FILENAMES to a Vulkan ICD json that Dawn accepts.',
    );
  }
  process.env.VK_ICD_FILENAMES = icd;
}
// Silences Dawn's "XDG_RUNTIME_DIR is invalid" lines.
process.env.XDG_RUNTIME_DIR ??= '/tmp';
