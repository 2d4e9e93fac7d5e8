export { SharedHealthCache, type ReplicaRole, type RoleChange } from './shared-health-cache.js';
export type { SharedHealthCacheOptions } from './options.js';
