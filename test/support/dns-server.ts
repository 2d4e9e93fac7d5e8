/**
 * A small real DNS server for tests, on a free UDP port of 127.0.0.1, built on
 * `node:dgram` and `dns-packet`. It answers the records of its zone
 * (A, AAAA, CNAME, SRV, TXT), NXDOMAIN for names it does not have, and, per
 * name, SERVFAIL, REFUSED or nothing at all (`silent`: the query is dropped).
 *
 * ```ts
 * const dns = await startDnsServer({ 'api.test': { A: ['10.0.0.1'] } });
 * dnsChecker({ name: 'api.test', servers: [dns.address] });
 * await dns.close();
 * ```
 */
import dgram from 'node:dgram';
import packet from 'dns-packet';

/** One name's records. */
export interface ZoneEntry {
  A?: string[];
  AAAA?: string[];
  CNAME?: string;
  SRV?: { priority: number; weight: number; port: number; target: string }[];
  /** Each record as its strings (a long value is split into several). */
  TXT?: string[][];
  /** Instead of answering: fail, refuse, or drop the query. */
  behaviour?: 'servfail' | 'refused' | 'silent';
}

/** A running server. */
export interface DnsServer {
  /** `127.0.0.1:<port>`, as `servers` takes it. */
  readonly address: string;
  readonly port: number;
  /** Every question received, as `name TYPE`, in order. */
  readonly queries: string[];
  /** The zone, which tests may change between checks. */
  readonly zone: Record<string, ZoneEntry>;
  close(): Promise<void>;
}

function answersFor(name: string, type: string, entry: ZoneEntry): packet.Answer[] {
  const base = { name, ttl: 60, class: 'IN' as const };
  switch (type) {
    case 'A':
      return (entry.A ?? []).map((data) => ({ ...base, type: 'A', data }));
    case 'AAAA':
      return (entry.AAAA ?? []).map((data) => ({ ...base, type: 'AAAA', data }));
    case 'CNAME':
      return entry.CNAME === undefined ? [] : [{ ...base, type: 'CNAME', data: entry.CNAME }];
    case 'SRV':
      return (entry.SRV ?? []).map((data) => ({ ...base, type: 'SRV', data }));
    case 'TXT':
      return (entry.TXT ?? []).map((strings) => ({ ...base, type: 'TXT', data: strings }));
    default:
      return [];
  }
}

function reply(query: packet.Packet, zone: Record<string, ZoneEntry>): Buffer | undefined {
  const question = query.questions?.[0];
  const entry = question ? zone[question.name.toLowerCase()] : undefined;
  if (entry?.behaviour === 'silent') return undefined;
  // Response codes (RFC 1035): NOERROR 0, SERVFAIL 2, NXDOMAIN 3, REFUSED 5.
  const rcode =
    entry?.behaviour === 'servfail' ? 2 : entry?.behaviour === 'refused' ? 5 : entry === undefined ? 3 : 0;
  const answers = question && entry && rcode === 0 ? answersFor(question.name, question.type, entry) : [];
  return packet.encode({
    id: query.id,
    type: 'response',
    // Authoritative, recursion available, the query's recursion-desired bit, and the response code (low 4 bits).
    flags:
      packet.AUTHORITATIVE_ANSWER |
      packet.RECURSION_AVAILABLE |
      ((query.flags ?? 0) & packet.RECURSION_DESIRED) |
      rcode,
    questions: query.questions,
    answers,
  });
}

/** Starts a server for `zone` (names in lower case, without a trailing dot). */
export async function startDnsServer(zone: Record<string, ZoneEntry>): Promise<DnsServer> {
  const socket = dgram.createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (message, remote) => {
    let query: packet.Packet;
    try {
      query = packet.decode(message);
    } catch {
      return; // Not DNS: ignored, as a real server would.
    }
    for (const question of query.questions ?? []) queries.push(`${question.name} ${question.type}`);
    const response = reply(query, zone);
    if (response) socket.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    port,
    queries,
    zone,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
