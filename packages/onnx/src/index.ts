/**
 * `@tessera/onnx`: ONNX export of Tessera models. `exportOnnx(model)` turns a built
 * Sequential or functional model into the bytes of an `.onnx` file that takes and returns
 * the same (NHWC) tensors as `model.predict`; `checkOnnx(bytes)` checks a file's structure.
 * Writing to disk is on the Node-only subpath `@tessera/onnx/node` (`saveOnnx`).
 *
 * @example
 * import { exportOnnx } from '@tessera/onnx';
 * const bytes = await exportOnnx(model, { opset: 17 });
 * const session = await ort.InferenceSession.create(bytes);
 * @packageDocumentation
 */
export { exportOnnx, exportOnnxSync, type ExportOptions } from './export.js';
export { checkOnnx, type OnnxModelInfo } from './check.js';
export { OnnxExportError } from './errors.js';
export { supportedLayers } from './convert/registry.js';
export { exportableActivations } from './convert/activations.js';
export { VERSION } from './version.js';
