import { z } from 'zod';
import {
  crossProblems,
  dependsOnSchema,
  labelsSchema,
  MAINTENANCE_KEYS,
  maintenanceSchema,
  STATE_KEYS,
  stateSchema,
} from './config-organise.js';
import {
  ALERT_RULE_KEYS,
  alertsConfigIssues,
  alertsSchema,
  notifierKeys,
  notifiersSchema,
} from './alerts-config.js';
import { durationSchema } from './duration-schema.js';
import { quoteString } from './quote.js';
import { DEFAULT_SERVER_LIMITS } from './server-limits.js';

/**
 * The config file's schema. Every object is strict: an unknown key is an
 * error, so a typo cannot be silently ignored. Key names are the library's
 * option names (camelCase). Ranges of the cache options are checked by the
 * cache itself, so the file and the library can never disagree.
 *
 * One schema in one file (a little over 300 lines): the provider types share
 * the common keys and the tls block, and read best side by side.
 */

const duration = durationSchema();

const nonEmpty = z.string().min(1, { error: 'expected a non-empty string' });
const port = z
  .int({ error: 'expected a port from 0 to 65535' })
  .min(0, { error: 'expected a port from 0 to 65535' })
  .max(65_535, {
    error: 'expected a port from 0 to 65535',
  });

/** Client TLS settings; `ca`, `cert` and `key` are PEM file paths (or inline PEM), read at startup. */
const tls = z.strictObject({
  /** CA bundle to trust instead of Node's bundled roots. */
  ca: nonEmpty.optional(),
  /** Client certificate, for mutual TLS (with `key`). */
  cert: nonEmpty.optional(),
  /** The client certificate's private key (with `cert`). */
  key: nonEmpty.optional(),
  /** The name the server certificate must carry, when it differs from the host. */
  serverName: nonEmpty.optional(),
  /** Accept any server certificate. Default false; for tests only. */
  skipVerify: z.boolean().optional(),
});

/** The longest `certExpiryWarning`: 366 days, the checkers' own bound (it is compared with dates, never a timer). */
export const MAX_CERT_EXPIRY_WARNING = 366 * 86_400_000;

/**
 * Days before a certificate or token expires from which the check is
 * `degraded` (`"30d"`); `0` turns the warning off. Default 14 days (the checker's).
 */
const certExpiryWarning = durationSchema({ max: MAX_CERT_EXPIRY_WARNING, text: '366d' });

const common = {
  /** The name the provider is shown and looked up under; unique in the file. */
  name: nonEmpty,
  /** A healthy check slower than this reports `degraded`. */
  slowThreshold: duration.optional(),
  /** Key/value labels (Kubernetes rules) that selectors, silences and windows match. */
  labels: labelsSchema.optional(),
  /** Names of providers this one depends on (registered first; no cycles). */
  dependsOn: dependsOnSchema.optional(),
};

const docker = z.strictObject({
  ...common,
  type: z.literal('docker'),
  /** `unix:///path`, `tcp://host:port` or `https://…`; default: `DOCKER_HOST`, then the usual sockets. */
  host: nonEmpty.optional(),
  tls: tls.optional(),
  certExpiryWarning: certExpiryWarning.optional(),
  /** Also read `/info` and report the daemon's warnings as degraded. Default false. */
  info: z.boolean().optional(),
});

const kubernetes = z.strictObject({
  ...common,
  type: z.literal('kubernetes'),
  /** Path of a kubeconfig; default: `KUBECONFIG`, `~/.kube/config`, then in-cluster. */
  kubeconfig: nonEmpty.optional(),
  /** The kubeconfig context; default: its current context. */
  context: nonEmpty.optional(),
  certExpiryWarning: certExpiryWarning.optional(),
  /** Also ask `/livez` besides `/readyz`. Default false. */
  livez: z.boolean().optional(),
  /** Also list nodes and report NotReady ones as degraded (needs list on nodes). Default false. */
  nodes: z.boolean().optional(),
});

const nomad = z.strictObject({
  ...common,
  type: z.literal('nomad'),
  /** The agent's address; default: `NOMAD_ADDR`, then `http://127.0.0.1:4646`. */
  address: nonEmpty.optional(),
  /** ACL token; default: `NOMAD_TOKEN`. Never logged. */
  token: nonEmpty.optional(),
  /** Region to ask about; default: the agent's. */
  region: nonEmpty.optional(),
  tls: tls.optional(),
  certExpiryWarning: certExpiryWarning.optional(),
  /** Also read `/v1/operator/autopilot/health`; failure tolerance 0 is degraded. Default false. */
  autopilot: z.boolean().optional(),
});

const statusCode = z
  .int({ error: 'expected an HTTP status from 100 to 599' })
  .min(100, { error: 'expected an HTTP status from 100 to 599' })
  .max(599, {
    error: 'expected an HTTP status from 100 to 599',
  });

const http = z.strictObject({
  ...common,
  type: z.literal('http'),
  /** The URL to request (http or https); userinfo is sent as Basic auth and never shown. */
  url: nonEmpty,
  /** Default `GET`. */
  method: nonEmpty.optional(),
  /** A status (`204`), an inclusive range (`[200, 399]`) or a class (`"2xx"`, the default). */
  expectedStatus: z
    .union([statusCode, z.tuple([statusCode, statusCode]), z.enum(['1xx', '2xx', '3xx', '4xx', '5xx'])], {
      error: 'expected an HTTP status (204), a range ([200, 399]) or a class ("2xx")',
    })
    .optional(),
  /** Text the body must contain; `/pattern/flags` is a regular expression. */
  bodyMatch: nonEmpty.optional(),
  /** Request headers, e.g. `Authorization`. Never logged. */
  headers: z.record(z.string(), z.string()).optional(),
  /** `true` follows up to 5 redirects, a number up to that many. Default false. */
  followRedirects: z
    .union([z.boolean(), z.int()], { error: 'expected true, false or a number of redirects' })
    .optional(),
  tls: tls.optional(),
  certExpiryWarning: certExpiryWarning.optional(),
});

const tcp = z.strictObject({
  ...common,
  type: z.literal('tcp'),
  host: nonEmpty,
  port: port.refine((value) => value > 0, { error: 'expected a port from 1 to 65535' }),
});

const grpc = z.strictObject({
  ...common,
  type: z.literal('grpc'),
  /** `host:port`, `[ipv6]:port` or `unix:/path`. Required. */
  address: nonEmpty,
  /** The service whose health is asked; default the server as a whole. */
  service: z.string().optional(),
  /** Speak gRPC without TLS. Default false; not with `tls`. */
  plaintext: z.boolean().optional(),
  tls: tls.optional(),
  /** The call's deadline, sent to the server; default none (the check timeout still holds). */
  timeout: duration.optional(),
  certExpiryWarning: certExpiryWarning.optional(),
});

/** The DNS record types a `dns` entry can ask for. */
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'SRV', 'TXT'] as const;

const dns = z.strictObject({
  ...common,
  type: z.literal('dns'),
  /** The DNS name to resolve (`name` is the provider's). Required. */
  query: nonEmpty,
  /** The record type (the checker's `type`, renamed: `type` is the entry's kind). Default A. */
  recordType: z
    .enum(DNS_RECORD_TYPES, { error: `expected one of ${DNS_RECORD_TYPES.join(', ')}` })
    .optional(),
  /** IP addresses (with optional ports) of the servers to ask; default the system's resolvers. */
  servers: z.array(z.string(), { error: 'expected a list of IP addresses' }).optional(),
  /** Values that must all be among the answers. */
  expect: z
    .union([z.string(), z.array(z.string())], { error: 'expected a value or a list of values' })
    .optional(),
});

/** The provider types a config can name, in the order error messages list them. */
export const PROVIDER_TYPES = ['docker', 'kubernetes', 'nomad', 'http', 'tcp', 'grpc', 'dns'] as const;

/** Each provider type's schema. */
const PROVIDER_SCHEMAS = { docker, kubernetes, nomad, http, tcp, grpc, dns } as const;

const provider = z.discriminatedUnion('type', [docker, kubernetes, nomad, http, tcp, grpc, dns]);

/** A whole number from `min` to `max`, saying so when it is not. */
function count(min: number, max: number) {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** A duration that must be above zero (a zero timeout would turn the bound off in Node). */
const positiveDuration = duration.refine((ms) => ms > 0, { error: 'expected a duration above 0' });

const server = z
  .strictObject({
    /** Default 127.0.0.1; `--host` overrides. */
    host: nonEmpty.optional(),
    /** Default 7070; `--port` overrides. */
    port: port.optional(),
    /** Bearer token the API requires; `PROVIDER_HEALTH_TOKEN` overrides. Never logged. */
    token: nonEmpty.optional(),
    /** Refresh requests closer together than this are coalesced. */
    minRefreshInterval: duration.optional(),
    /** Host names the API answers besides localhost and IP literals (DNS-rebinding guard); `*` for any. */
    allowedHosts: z.array(nonEmpty, { error: 'expected a list of host names' }).optional(),
    /** Open `/api/events` streams at most; beyond it 503. Default 1,000 (checked by the handler). */
    maxEventStreams: z.number().optional(),
    /** JSON bodies are re-serialised at most once per this while statuses change. Default 250ms (0 to 1m, checked by the handler). */
    publishInterval: duration.optional(),
    /** Open connections at most; further ones are closed at once. Default 1,000 (1 to 100,000). */
    maxConnections: count(1, 100_000).optional(),
    /** Time a client has to send the request headers. Default 10s. */
    headersTimeout: positiveDuration.optional(),
    /** Time a client has to send the whole request (headers and body). Default 30s. */
    requestTimeout: positiveDuration.optional(),
    /** An idle keep-alive connection is closed after this. Default 5s. */
    keepAliveTimeout: positiveDuration.optional(),
    /** Requests served on one connection before it is closed (0: no limit). Default 1,000. */
    maxRequestsPerSocket: count(0, 1_000_000).optional(),
  })
  .superRefine((value, context) => {
    const headers = value.headersTimeout ?? DEFAULT_SERVER_LIMITS.headersTimeout;
    const request = value.requestTimeout ?? DEFAULT_SERVER_LIMITS.requestTimeout;
    if (headers > request) {
      context.addIssue({
        code: 'custom',
        path: [value.headersTimeout === undefined ? 'requestTimeout' : 'headersTimeout'],
        message: `expected headersTimeout (${headers} ms) not above requestTimeout (${request} ms)`,
      });
    }
  });

const redis = z.strictObject({
  /** `redis://[user:password@]host:port[/db]`; default `PROVIDER_HEALTH_REDIS_URL`. */
  url: nonEmpty.optional(),
  /** Key prefix shared by the replicas of one deployment. */
  key: nonEmpty.optional(),
  /** How long the polling replica's lease lasts without renewal. */
  leaseTtl: duration.optional(),
  /** How often the polling replica writes each provider's history to Redis (1s to 1h; default 1m). */
  historyInterval: duration.optional(),
  /** Redis Sentinel (instead of url): the sentinels ("host:port") and the master's name. */
  sentinels: z.array(nonEmpty).optional(),
  name: nonEmpty.optional(),
  /** Redis Cluster (instead of url): seed nodes ("host:port"). */
  cluster: z.array(nonEmpty).optional(),
  username: nonEmpty.optional(),
  password: nonEmpty.optional(),
  sentinelPassword: nonEmpty.optional(),
  tls: z.boolean().optional(),
  /** Split the providers across the replicas (default false: one leader polls all). */
  shards: z.boolean().optional(),
});

/** The whole file. */
export const configSchema = z
  .strictObject({
    pollInterval: duration.optional(),
    checkTimeout: duration.optional(),
    staleAfter: duration.optional(),
    jitter: z.number().optional(),
    concurrency: z.number().optional(),
    failureThreshold: z.number().optional(),
    successThreshold: z.number().optional(),
    historySize: z.number().optional(),
    maxMessageLength: z.number().optional(),
    /** Also register the providers discovery finds (default false when a file is given). */
    discover: z.boolean().optional(),
    server: server.optional(),
    redis: redis.optional(),
    providers: z.array(provider).optional(),
    /** Scheduled silences: a cron expression, a duration, a time zone and a selector each. */
    maintenance: z.array(maintenanceSchema, { error: 'expected a list of maintenance windows' }).optional(),
    /** What survives a restart in single mode (the silences). */
    state: stateSchema.optional(),
    /** Issue 12: where notifications go, and when (src/cli/alerts-config.ts). */
    notifiers: notifiersSchema.optional(),
    alerts: alertsSchema.optional(),
  })
  .superRefine((config, context) => {
    const alerting = alertsConfigIssues(config);
    for (const { path, message } of [...duplicateNames(config), ...crossProblems(config), ...alerting])
      context.addIssue({ code: 'custom', path, message });
  });

/** An issue for each provider whose name an earlier entry already uses; reads unvalidated data too. */
export function duplicateNames(data: unknown): { path: (string | number)[]; message: string }[] {
  const providers = (data as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(providers)) return [];
  const issues: { path: (string | number)[]; message: string }[] = [];
  const seen = new Map<string, number>();
  providers.forEach((entry: unknown, index) => {
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else {
      issues.push({
        path: ['providers', index, 'name'],
        message: `duplicate provider name ${quoteString(name)} (also used by providers[${first}])`,
      });
    }
  });
  return issues;
}

/** The file's contents after validation, durations in milliseconds. */
export type ConfigFile = z.output<typeof configSchema>;
/** One `providers` entry. */
export type ProviderEntry = z.output<typeof provider>;
/** The `tls` object of an entry. */
export type TlsEntry = z.output<typeof tls>;

/** Known keys at a place in the file, for "did you mean" hints; `undefined` where unknown. */
export function knownKeys(path: readonly PropertyKey[], type: unknown): readonly string[] | undefined {
  const [first, second, third] = path;
  if (path.length === 0) return Object.keys(configSchema.shape);
  if (path.length === 1 && first === 'server') return Object.keys(server.def.shape);
  if (path.length === 1 && first === 'redis') return Object.keys(redis.shape);
  if (path.length === 1 && first === 'state') return STATE_KEYS;
  if (path.length === 2 && first === 'maintenance') return MAINTENANCE_KEYS;
  if (path.length === 2 && first === 'notifiers') return notifierKeys(type);
  if (path.length === 2 && first === 'alerts') return ALERT_RULE_KEYS;
  if (first !== 'providers' || typeof second !== 'number') return undefined;
  const schema = PROVIDER_TYPES.includes(type as never)
    ? PROVIDER_SCHEMAS[type as keyof typeof PROVIDER_SCHEMAS]
    : undefined;
  if (path.length === 2) return schema ? Object.keys(schema.shape) : ['name', 'type'];
  if (path.length === 3 && third === 'tls') return Object.keys(tls.shape);
  return undefined;
}
