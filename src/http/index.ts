export { createHealthHandler, type HealthHandler, type NextFunction } from './handler.js';
export type { HealthHandlerOptions } from './options.js';
export type { Reload, ReloadOutcome, ReloadReport } from './reload-route.js';
export type { HistorySampleJSON, ProviderJSON } from './provider-json.js';
export { CONTENT_SECURITY_POLICY } from './page/assets.js';
// The HTTP endpoint checker lives with the other checkers; `provider-health/http` offers it too,
// so `import { httpChecker } from 'provider-health/http'` works as the checker docs promise.
export {
  httpChecker,
  type ExpectedStatus,
  type HttpChecker,
  type HttpCheckerOptions,
} from '../checkers/http.js';
