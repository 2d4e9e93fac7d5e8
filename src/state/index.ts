/** The state store: what must outlive a process. Re-exports only. */
export * from './state-store.js';
export * from './state-errors.js';
export * from './memory-state-store.js';
export * from './file-state-store.js';
