export { systemClock, type Clock, type ClockTimerOptions, type TimerHandle } from './clock.js';
export { toDisposable, type Disposable } from './disposable.js';
export {
  AlreadyRunningError,
  DisposedError,
  OptionRangeError,
  OptionTypeError,
  UnknownProviderError,
  isAlreadyRunningError,
  isDisposedError,
  isOptionError,
  isUnknownProviderError,
  type OptionError,
  type OptionErrorInit,
} from './errors.js';
export type {
  CheckResult,
  CheckerFault,
  HealthEvent,
  Removal,
  StatusChange,
  SweepSummary,
  Transition,
} from './events.js';
export { HealthCache } from './health-cache.js';
export type { HealthView, RunnableHealthView } from './health-view.js';
export type { HistorySample, RestoredSample } from './history.js';
export { decodeHistory, encodeHistory } from './history-codec.js';
export type { HistoryExport } from './history-keeper.js';
export { redactSecrets } from './messages.js';
export {
  defaultConfig,
  resolveOptions,
  type Config,
  type HealthCacheOptions,
  type ResolvedHealthCacheOptions,
} from './options.js';
export { isHealthChecker, type HealthChecker, type HealthReport, type Provider } from './provider.js';
export {
  ProviderRegistry,
  assertProviderName,
  type RegisterOptions,
  type RegistryChange,
} from './registry.js';
export {
  DependencyError,
  isDependencyError,
  validateDependsOn,
  validateLabels,
  type Labels,
} from './labels.js';
export {
  EVERYTHING,
  Selector,
  SelectorError,
  isSelectorError,
  parseSelector,
  type SelectorOperator,
  type SelectorRequirement,
} from './selector.js';
export type { SilenceSource } from './silencing.js';
export {
  millisToNanos,
  statusToJSON,
  type CheckState,
  type HealthState,
  type HistorySummary,
  type Status,
  type StatusJSON,
} from './status.js';
export type { WindowFigures, WindowSummary, WindowUptimes } from './uptime-windows.js';
