/**
 * Turning what is wrong with a config file into message lines: zod's issues
 * (with "did you mean" hints for unknown keys), bounded in number and in
 * what they quote.
 */
import type { z } from 'zod';
import { crossProblems } from './config-organise.js';
import { duplicateNames, knownKeys, PROVIDER_TYPES } from './config-schema.js';
import { quoteString } from './quote.js';

/** A path into the config file, e.g. `['providers', 1, 'type']`. */
export type ConfigPath = readonly PropertyKey[];

/** At most this many problems are listed; the rest are counted. */
export const MAX_PROBLEMS = 20;

/** Every problem zod found, plus duplicate names, sorted by line and listed. */
export function validationProblems(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  make: (path: ConfigPath, message: string, key?: boolean) => Problem,
): string {
  const tally = { omitted: 0 };
  const problems = issues.flatMap((issue) => describeIssue(issue, data, make, tally));
  // The schema checks names and dependencies only once everything else is valid; say it now as well.
  const seen = new Set(problems.map((problem) => problem.text));
  for (const { path, message } of [...duplicateNames(data), ...crossProblems(data)]) {
    for (const duplicate of describeIssue(
      { code: 'custom', path, message, input: undefined },
      data,
      make,
      tally,
    )) {
      if (!seen.has(duplicate.text)) problems.push(duplicate);
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return listProblems(problems, tally.omitted);
}

/** The problems, one per line, at most {@link MAX_PROBLEMS} of them, counting the rest (and `omitted`). */
export function listProblems(problems: readonly Problem[], omitted = 0): string {
  const shown = problems.slice(0, MAX_PROBLEMS).map((problem) => problem.text);
  const more = problems.length - shown.length + omitted;
  if (more > 0) shown.push(`… and ${more} more problem${more === 1 ? '' : 's'}`);
  return shown.join('\n');
}

/** One line of a {@link ConfigError}, with its line number for sorting. */
export interface Problem {
  readonly line: number;
  readonly text: string;
}

/** Turns one zod issue into problems saying what was expected and what was found. */
function describeIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  make: (path: ConfigPath, message: string, key?: boolean) => Problem,
  tally: { omitted: number },
): Problem[] {
  const path = issue.path;
  const value = valueAt(data, path);
  const present = value !== undefined;
  const got = present ? `, got ${describeValue(value, path)}` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = valueAt(data, path) as Record<string, unknown> | undefined;
      const known = knownKeys(path, parent?.['type']);
      // Each key costs a line lookup and a suggestion: describe a bounded number, count the rest.
      tally.omitted += Math.max(0, issue.keys.length - MAX_PROBLEMS);
      return issue.keys.slice(0, MAX_PROBLEMS).map((key) => {
        const hint = known ? unknownKeyHint(key, known) : '';
        return make([...path, key], `unknown key${hint}`, true);
      });
    }
    case 'invalid_type': {
      // Zod's own messages start "Invalid input"; ours already say what is expected.
      const expected = /^Invalid/.test(issue.message)
        ? `expected ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}`
        : issue.message;
      return [make(path, present ? `${expected}${got}` : `missing; ${expected}`)];
    }
    case 'invalid_value': {
      const options = issue.values.map((option) => JSON.stringify(option)).join(', ');
      return [make(path, `expected ${issue.values.length === 1 ? options : `one of ${options}`}${got}`)];
    }
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator === 'type') {
        const expected = `expected one of ${PROVIDER_TYPES.join(', ')}`;
        return [make(path, present ? `${expected}${got}` : `missing; ${expected}`)];
      }
      return [make(path, `${issue.message}${got}`)];
    }
    case 'custom':
      // Our own messages already say what was expected and what was found.
      return [make(path, issue.message)];
    default:
      return [make(path, `${issue.message}${got}`)];
  }
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

/** A value for an error message; never echoes a secret. */
function describeValue(value: unknown, path: ConfigPath): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (isSecret(path)) return `a ${typeof value}`;
  if (typeof value === 'string') return quoteString(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return typeof value;
}

const SECRET_KEY = /token|password|secret|headers|^url$/i;

function isSecret(path: ConfigPath): boolean {
  return path.some((segment) => typeof segment === 'string' && SECRET_KEY.test(segment));
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let value = data;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/**
 * Keys longer than this get no "did you mean": the edit distance costs
 * length × candidate length, and a near miss of a known key is never this long.
 */
const MAX_SUGGESTED_KEY = 64;

/** At most this many candidates are compared (every place in the schema has fewer). */
const MAX_CANDIDATES = 32;

/** `; did you mean "host"?` for a near miss, else the list of known keys. */
function unknownKeyHint(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of key.length > MAX_SUGGESTED_KEY ? [] : known.slice(0, MAX_CANDIDATES)) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3))) {
    return `; did you mean ${JSON.stringify(best)}?`;
  }
  return `; expected one of ${known.join(', ')}`;
}

/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, index) => index)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
