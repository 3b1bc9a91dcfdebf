/** This package's version, written into `ModelProto.producer_version` (keep in step with package.json; a test checks). */
export const VERSION = '0.1.0';
