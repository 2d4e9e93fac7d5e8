/**
 * A real SMTP server (smtp-server) for the email notifier's tests: it checks
 * the login, records each message, and parses it into headers and the
 * text/plain and text/html parts of a multipart/alternative body.
 */
import { SMTPServer } from 'smtp-server';
import { close, listen } from './listen.js';

/** A message the server accepted. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly headers: ReadonlyMap<string, string>;
  readonly text: string;
  readonly html: string;
}

/** A running server; `url` carries the credentials it accepts. */
export interface SmtpFixture {
  readonly port: number;
  readonly url: string;
  readonly mails: ReceivedMail[];
  /** Failed login attempts seen. */
  readonly refusedLogins: number;
  close(): Promise<void>;
}

/** Starts an SMTP server on a free loopback port accepting `user`/`pass` only. */
export async function startSmtp(user = 'alerts', pass = 'pa$$-w0rd-secret'): Promise<SmtpFixture> {
  const mails: ReceivedMail[] = [];
  let refused = 0;
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) return callback(null, { user });
      refused += 1;
      callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelope = session.envelope;
        const from = envelope.mailFrom === false ? '' : envelope.mailFrom.address;
        mails.push({
          from,
          to: envelope.rcptTo.map((r) => r.address),
          ...parseMail(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  const port = await listen(server.server);
  return {
    port,
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`,
    mails,
    get refusedLogins() {
      return refused;
    },
    close: () => close(server.server),
  };
}

function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, at).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(at + 4) };
}

function decode(body: string, encoding: string | undefined): string {
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Parses a message into its headers and its text and HTML alternatives. */
export function parseMail(raw: string): { headers: Map<string, string>; text: string; html: string } {
  const { headers, body } = splitHeaders(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  let text = '';
  let html = '';
  for (const part of boundary === undefined ? [] : body.split(`--${boundary}`).slice(1, -1)) {
    const parsed = splitHeaders(part.replace(/^\r\n/, ''));
    const content = decode(parsed.body.replace(/\r\n$/, ''), parsed.headers.get('content-transfer-encoding'));
    const type = parsed.headers.get('content-type') ?? '';
    if (type.startsWith('text/plain')) text = content;
    if (type.startsWith('text/html')) html = content;
  }
  return { headers, text, html };
}
