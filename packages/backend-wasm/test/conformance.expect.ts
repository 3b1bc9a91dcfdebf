/**
 * Known gaps of the wasm backend in the conformance suite, as data: case-id globs (optionally
 * `@fused` / `@unfused`) to the reason. An entry that stops failing fails the run.
 */
import type { ExpectFile } from '@tessera/conformance';

export const expect: ExpectFile = {};
