export { SharedHealthCache } from './shared-health-cache.js';
export {
  BadRecordError,
  isBadRecordError,
  isRedisSetupError,
  RedisSetupError,
  type RedisSetupKind,
  type LeaseRepair,
  type LeaseRepairKind,
  type ReplicaDescription,
  type ReplicaRole,
  type RoleChange,
  type ShareChange,
} from './events.js';
export type { SharedHealthCacheOptions } from './options.js';
export type { ClusterRedis, RedisAuth, RedisNode, SentinelRedis } from './target.js';
export type { SharedSilencesOptions } from './silence-options.js';
export {
  BadSilenceRecordError,
  isBadSilenceRecordError,
  MAX_SILENCE_RECORD_LENGTH,
} from './silence-record.js';
export { SILENCE_POLL_INTERVAL } from './silence-sync.js';
export { BadHistoryEntryError, isBadHistoryEntryError } from './history-entry.js';
export {
  MAX_ALERT_STATE_BYTES,
  redisAlertCoordinator,
  type AlertLeaseSource,
  type RedisAlertCoordinator,
  type RedisAlertCoordinatorOptions,
} from './alert-store.js';
