/**
 * The exporter's typed error.
 * @module
 */
import { TesseraError } from '@tessera/core';

/**
 * A layer (or a setting of one) that ONNX export cannot express: a custom layer class, a
 * custom activation function, dropout or batch statistics forced on with `training: true`,
 * an attention call with a mask tensor, … It names the layer and its class.
 * @example
 * try { await exportOnnx(model) } catch (e) { if (e instanceof OnnxExportError) console.log(e.layerName, e.className) }
 */
export class OnnxExportError extends TesseraError {
  /** The layer's name in the model (`dense_1`). */
  readonly layerName: string;
  /** The layer's class name (`Dense`, or a custom class's name). */
  readonly className: string;
  constructor(layerName: string, className: string, why: string) {
    super('exportOnnx', `cannot export layer "${layerName}" (${className}): ${why}`);
    this.layerName = layerName;
    this.className = className;
  }
}
