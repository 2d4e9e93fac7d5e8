/**
 * The record types the DNS checker asks for: each one's query through a
 * `node:dns` Resolver, how its answers are written as strings (what
 * `expect` is compared with), and the reasons for the resolver's errors.
 * @internal
 */
import net from 'node:net';
import type { Resolver } from 'node:dns/promises';

/** The record types the DNS checker resolves. */
export const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'SRV', 'TXT'] as const;

/** One of {@link RECORD_TYPES}. */
export type RecordType = (typeof RECORD_TYPES)[number];

/** An SRV answer, kept whole in `details`. */
export interface SrvAnswer {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** The answers of one query: each as the string `expect` is compared with, and SRV records whole. */
export interface Answers {
  readonly values: readonly string[];
  readonly srv?: readonly SrvAnswer[] | undefined;
}

/** A host name as DNS compares them: case-insensitive, without the root's trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** An IPv6 address in its canonical compressed form (`2001:db8::1`), for comparison. */
function canonicalIPv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * An expected value written the way the answers are, or `undefined` when it
 * cannot be one for this type (an A value that is not an IPv4 address...).
 */
export function normalizeExpected(type: RecordType, value: string): string | undefined {
  switch (type) {
    case 'A':
      return net.isIPv4(value) ? value : undefined;
    case 'AAAA':
      return net.isIPv6(value) ? canonicalIPv6(value) : undefined;
    case 'CNAME':
      return normalizeName(value);
    case 'SRV': {
      const match = /^([^\s:]+):(\d{1,5})$/.exec(value);
      return match?.[1] !== undefined && Number(match[2]) <= 65_535
        ? `${normalizeName(match[1])}:${Number(match[2])}`
        : undefined;
    }
    case 'TXT':
      return value;
  }
}

/** What an expected value of each type looks like, for option errors. */
export const EXPECTED_SHAPE: Readonly<Record<RecordType, string>> = {
  A: 'IPv4 addresses',
  AAAA: 'IPv6 addresses',
  CNAME: 'host names',
  SRV: 'host:port strings',
  TXT: 'strings',
};

/** Resolves `name` as `type`; rejects with the resolver's error (`ENOTFOUND`, `ESERVFAIL`...). */
export async function resolveRecords(resolver: Resolver, type: RecordType, name: string): Promise<Answers> {
  switch (type) {
    case 'A':
      return { values: await resolver.resolve4(name) };
    case 'AAAA':
      return { values: (await resolver.resolve6(name)).map(canonicalIPv6) };
    case 'CNAME':
      return { values: (await resolver.resolveCname(name)).map(normalizeName) };
    case 'SRV': {
      const records = await resolver.resolveSrv(name);
      return {
        values: records.map((record) => `${normalizeName(record.name)}:${record.port}`),
        srv: records.map(({ name: host, port, priority, weight }) => ({
          name: host,
          port,
          priority,
          weight,
        })),
      };
    }
    case 'TXT':
      // A TXT record is a list of strings of up to 255 bytes; joined, they are the value.
      return { values: (await resolver.resolveTxt(name)).map((chunks) => chunks.join('')) };
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOTFOUND: 'no such name (NXDOMAIN)',
  ESERVFAIL: 'the server failed to answer (SERVFAIL)',
  EREFUSED: 'the server refused the query (REFUSED)',
  ENOTIMP: 'the server does not implement this query (NOTIMP)',
  EFORMERR: 'the server says the query is malformed (FORMERR)',
  EBADRESP: 'the server sent a malformed answer',
  ECONNREFUSED: 'connection refused (no DNS server on that address)',
  EBADNAME: 'not a valid DNS name',
  ENOMEM: 'out of memory',
  EDESTRUCTION: 'the resolver was shut down',
  ECANCELLED: 'the query was cancelled',
};

/** The resolver error's code, as `node:dns` sets it. */
export function dnsErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A short reason for a resolver error; `tries` is how many attempts a timeout took. */
export function describeDnsError(error: unknown, type: RecordType, tries: number): string {
  const code = dnsErrorCode(error);
  if (code === 'ENODATA') return `the name exists but has no ${type} records`;
  if (code === 'ETIMEOUT') return `no answer in time (timeout after ${tries} tries)`;
  if (code !== undefined) {
    const known = REASONS[code];
    if (known !== undefined) return known;
    if (/^E[A-Z0-9_]+$/.test(code)) return `lookup failed (${code})`;
  }
  return 'lookup failed';
}
