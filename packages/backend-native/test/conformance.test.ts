import { describeConformance } from '@tessera/conformance';
import { createNativeBackend } from '../src/index.js';
import { expect } from './conformance.expect.js';

describeConformance('native', () => createNativeBackend(), { expect });
