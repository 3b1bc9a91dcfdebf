import type { ExpectFile } from '@tessera/conformance';

/**
 * Known gaps of the WebGPU backend on the CI driver (Dawn + Mesa lavapipe 25): none. Every
 * case passes in both modes; the two skipped cases need `caps.syncRead` (core raises
 * gather/oneHot's IndexError only where it can read indices synchronously).
 *
 * Things that would otherwise be driver-dependent are handled in the shaders rather than
 * listed here: NaN/Inf are tested on bits, subnormal inputs of the bit-level unary ops are
 * decoded from their bits (SwiftShader flushes them), exp(NaN) is NaN everywhere, and
 * sin/cos/atan2/erf/expm1/log1p are our own polynomials (WGSL allows sin 2^-11 absolute error).
 * Add an entry (`'glob': { reason: '…' }`) only with a written reason.
 */
export const expect: ExpectFile = {};
