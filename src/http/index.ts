export { createHealthHandler, type HealthHandler, type NextFunction } from './handler.js';
export type { HealthHandlerOptions } from './options.js';
export type { HistorySampleJSON, ProviderJSON } from './provider-json.js';
export { CONTENT_SECURITY_POLICY } from './page/assets.js';
