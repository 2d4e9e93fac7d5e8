import type { IncomingMessage } from 'node:http';
import { hostOf } from './host-patterns.js';

/**
 * Whether a state-changing request (a refresh) comes from another web origin:
 * a page elsewhere that a browser on this machine has open. Browsers send
 * `Sec-Fetch-Site` (which scripts cannot forge): only `same-origin` and
 * `none` (typed by the user) pass. Older browsers send only `Origin`, which
 * must name the host the request was sent to. Requests with neither come from
 * non-browser clients (curl, monitors) and pass; the token or the loopback
 * rule decides about them. @internal
 */
export function isCrossOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  const host = req.headers.host;
  if (origin === 'null' || host === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return true;
  }
  // Compared as host and port: the scheme is unknown behind a TLS-terminating proxy.
  const originHost = url.hostname.replace(/^\[|\]$/g, '');
  const originPort = url.port === '' ? defaultPort(url.protocol) : url.port;
  const target = hostOf(host);
  const colon = host.lastIndexOf(':');
  const targetPort = colon !== -1 && !host.endsWith(']') ? host.slice(colon + 1) : defaultPort(url.protocol);
  return target !== originHost.toLowerCase() || targetPort !== originPort;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}
