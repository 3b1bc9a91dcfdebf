/**
 * Turns a drawing into an MNIST-like input, the way the MNIST images were made: crop the ink,
 * scale it (keeping its aspect ratio) into a 20x20 box by area averaging, then place it in a
 * 28x28 image with its centre of mass at the centre. Pure functions on arrays.
 */

/** `ink` is a width x height array of intensities in [0, 1]; returns 784 values in [0, 1], or null when blank. */
export function toMnistInput(ink: Float32Array, width: number, height: number): Float32Array | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (ink[y * width + x]! > 0.05) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const sw = Math.max(1, Math.round(bw * scale)), sh = Math.max(1, Math.round(bh * scale));
  // Area-average the crop into sw x sh cells.
  const small = new Float32Array(sw * sh);
  const count = new Float32Array(sw * sh);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
    const cx = Math.min(sw - 1, Math.floor(((x - x0) * sw) / bw));
    const cy = Math.min(sh - 1, Math.floor(((y - y0) * sh) / bh));
    small[cy * sw + cx] += ink[y * width + x]!;
    count[cy * sw + cx]! += 1;
  }
  let mass = 0, mx = 0, my = 0;
  for (let i = 0; i < small.length; i++) {
    const v = count[i] ? small[i]! / count[i]! : 0;
    small[i] = v;
    mass += v; mx += v * (i % sw); my += v * Math.floor(i / sw);
  }
  // Shift so the centre of mass lands on pixel (14, 14) (MNIST centres by mass, not by box).
  const ox = Math.round(14 - (mx / mass + 0.5)), oy = Math.round(14 - (my / mass + 0.5));
  const out = new Float32Array(784);
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
    const tx = x + ox, ty = y + oy;
    if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = Math.min(1, small[y * sw + x]!);
  }
  return out;
}
