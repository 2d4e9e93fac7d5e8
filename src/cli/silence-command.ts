/**
 * `provider-health silence add|list|expire`: asks a running server's
 * `/api/silences` and prints the answer, as text or (`--json`) as the
 * server's JSON. What the server says is shown bounded and without control
 * characters, since it is another process's text on this terminal.
 */
import { userInfo } from 'node:os';
import type { Io } from './io.js';
import { TOKEN_ENV } from './setup.js';
import { callApi, type Answer } from './silence-client.js';
import type { SilenceInvocation, SilenceRequest } from './silence-args.js';

/** Exit codes of `silence` (also in its help and the README). */
export const SILENCE_EXIT = {
  ok: 0,
  /** Unreachable, timed out, or an answer this command did not expect. */
  failed: 1,
  /** Bad command line, or input the server refused (400, 413). */
  usage: 2,
  /** 401 / 403: the token is missing or wrong. */
  unauthorised: 3,
  /** 404 on expire: no such silence pending or in force. */
  notFound: 4,
  /** 409 / 429: overlaps a silence with the same matchers, or the server holds the most it allows. */
  refused: 5,
} as const;

/** The longest piece of server text printed. */
const MAX_SHOWN = 300;

/** Runs the invocation and resolves with the exit code; the server's errors go to stderr. */
export async function runSilence(
  invocation: SilenceInvocation,
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  const token = io.env[TOKEN_ENV] === '' ? undefined : io.env[TOKEN_ENV];
  const call = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Answer> =>
    callApi({ server: invocation.server, path, method, body, token, timeout: invocation.timeout, signal });
  const fail = (code: number, message: string): number => {
    io.stderr.write(`provider-health silence ${invocation.action}: ${message}\n`);
    return code;
  };
  try {
    switch (invocation.action) {
      case 'add': {
        const answer = await call('POST', 'api/silences', requestBody(invocation.request, io.env));
        if (answer.status !== 201) return fail(...refusal(answer, token));
        const silence = field(answer.body, 'silence');
        io.stdout.write(
          invocation.json ? `${JSON.stringify(silence, null, 2)}\n` : `${describeAdded(silence)}\n`,
        );
        return SILENCE_EXIT.ok;
      }
      case 'list': {
        const answer = await call('GET', 'api/silences');
        if (answer.status !== 200) return fail(...refusal(answer, token));
        io.stdout.write(
          invocation.json ? `${JSON.stringify(answer.body, null, 2)}\n` : renderList(answer.body),
        );
        return SILENCE_EXIT.ok;
      }
      case 'expire':
        return await expire(invocation, io, call, token, fail);
    }
  } catch (error) {
    if (signal.aborted) throw error;
    return fail(SILENCE_EXIT.failed, error instanceof Error ? error.message : String(error));
  }
}

async function expire(
  invocation: Extract<SilenceInvocation, { action: 'expire' }>,
  io: Io,
  call: (method: 'DELETE', path: string) => Promise<Answer>,
  token: string | undefined,
  fail: (code: number, message: string) => number,
): Promise<number> {
  const expired: string[] = [];
  const unknown: string[] = [];
  for (const id of invocation.ids) {
    const answer = await call('DELETE', `api/silences/${encodeURIComponent(id)}`);
    if (answer.status === 204) expired.push(id);
    else if (answer.status === 404 && !noSilenceApi(answer)) unknown.push(id);
    else return fail(...refusal(answer, token));
  }
  if (invocation.json) io.stdout.write(`${JSON.stringify({ expired, unknown })}\n`);
  else for (const id of expired) io.stdout.write(`expired silence ${id}\n`);
  if (unknown.length === 0) return SILENCE_EXIT.ok;
  return fail(
    SILENCE_EXIT.notFound,
    `no silence ${unknown.join(', ')} is pending or in force (unknown id, or already ended)`,
  );
}

/** The POST body: the request, `createdBy` defaulted to the operating-system user. */
function requestBody(request: SilenceRequest, env: Io['env']): Record<string, unknown> {
  const body: Record<string, unknown> = {
    matchers: request.matchers,
    comment: request.comment,
    createdBy: request.createdBy ?? osUser(env),
    endsOnRecovery: request.endsOnRecovery,
  };
  if (request.startsAt !== undefined) body['startsAt'] = request.startsAt;
  if (request.endsAt !== undefined) body['endsAt'] = request.endsAt;
  if (request.duration !== undefined) body['duration'] = request.duration;
  return body;
}

/** The user running this command; a container without a passwd entry falls back to `USER`. */
function osUser(env: Io['env']): string {
  try {
    const name = userInfo().username;
    if (name !== '') return name;
  } catch {
    // No passwd entry (a container with an arbitrary uid).
  }
  return env['USER'] || env['LOGNAME'] || env['USERNAME'] || 'unknown';
}

/** A 404 whose body is not about a silence: the server has no silence API (too old, or not configured). */
function noSilenceApi(answer: Answer): boolean {
  return answer.status === 404 && !/silence/i.test(errorText(answer.body) ?? '');
}

/** The exit code and message for an answer that is not the success expected. */
function refusal(answer: Answer, token: string | undefined): [number, string] {
  const said = errorText(answer.body);
  const because = said === undefined ? `HTTP ${answer.status}` : `HTTP ${answer.status}: ${said}`;
  switch (answer.status) {
    case 400:
    case 413: {
      const where = field(answer.body, 'field');
      const named = typeof where === 'string' ? ` (field ${clean(where)})` : '';
      return [SILENCE_EXIT.usage, `the server refused the silence${named}: ${because}`];
    }
    case 401:
    case 403:
      return [
        SILENCE_EXIT.unauthorised,
        `not authorised (${because}); ${token === undefined ? `set ${TOKEN_ENV} to the server's token` : `check ${TOKEN_ENV}`}`,
      ];
    case 404:
      return [
        SILENCE_EXIT.failed,
        `no /api/silences there (${because}): is --server the URL of a provider-health serve with silences?`,
      ];
    case 409:
    case 429:
      return [SILENCE_EXIT.refused, because];
    default:
      return [SILENCE_EXIT.failed, `unexpected answer: ${because}`];
  }
}

function errorText(body: unknown): string | undefined {
  const text = field(body, 'error');
  return typeof text === 'string' ? clean(text) : undefined;
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** Server text for the terminal: no control characters, bounded. */
function clean(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  return plain.length > MAX_SHOWN ? `${plain.slice(0, MAX_SHOWN)}…` : plain;
}

function describeMatchers(matchers: unknown): string {
  if (Array.isArray(matchers)) return clean(matchers.join(','));
  return clean(matchers);
}

function describeAdded(silence: unknown): string {
  const recovery = field(silence, 'endsOnRecovery') === true ? ', or when they recover' : '';
  return (
    `added silence ${clean(field(silence, 'id'))}: ${describeMatchers(field(silence, 'matchers'))} ` +
    `from ${clean(field(silence, 'startsAt'))} until ${clean(field(silence, 'endsAt'))}${recovery}`
  );
}

/** The silences as aligned columns, then the open maintenance windows. */
function renderList(body: unknown): string {
  const silences = field(body, 'silences');
  const windows = field(body, 'windows');
  const rows = (Array.isArray(silences) ? silences : []).map((silence: unknown) => [
    clean(field(silence, 'id')),
    describeMatchers(field(silence, 'matchers')),
    clean(field(silence, 'startsAt')),
    clean(field(silence, 'endsAt')) + (field(silence, 'endsOnRecovery') === true ? ' (or recovery)' : ''),
    clean(field(silence, 'createdBy')),
    clean(field(silence, 'comment')),
  ]);
  let text =
    rows.length === 0
      ? 'no silences pending or in force\n'
      : columns([['ID', 'MATCHERS', 'STARTS', 'ENDS', 'CREATED BY', 'COMMENT'], ...rows]);
  const open = Array.isArray(windows) ? windows : [];
  if (open.length > 0) {
    text += `\nmaintenance windows open now:\n`;
    text += columns([
      ['WINDOW', 'SELECTOR', 'STARTED', 'ENDS', 'COMMENT'],
      ...open.map((window: unknown) =>
        ['name', 'selector', 'startsAt', 'endsAt', 'comment'].map((key) => clean(field(window, key))),
      ),
    ]);
  }
  return text;
}

function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
