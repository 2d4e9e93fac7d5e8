export { SharedHealthCache } from './shared-health-cache.js';
export {
  BadRecordError,
  isBadRecordError,
  type LeaseRepair,
  type LeaseRepairKind,
  type ReplicaRole,
  type RoleChange,
} from './events.js';
export type { SharedHealthCacheOptions } from './options.js';
