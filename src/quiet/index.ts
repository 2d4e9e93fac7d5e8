/** Silences and maintenance windows: a layer over the core's provider metadata (labels). Re-exports only. */
export * from './silence.js';
export * from './silence-set.js';
export * from './silence-store.js';
export * from './maintenance-window.js';
export * from './maintenance-schedule.js';
export type { SilenceControl } from './silence-control.js';
export * from './silence-source.js';
export { followRecovery } from './follow-recovery.js';
export { localSilenceControl } from './local-silence-control.js';
