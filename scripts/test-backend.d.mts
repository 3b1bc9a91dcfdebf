import type { Backend } from '@tessera/core';
export function testBackendName(): string;
export function createTestBackend(): Promise<Backend | null>;
