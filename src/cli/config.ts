import { readFile } from 'node:fs/promises';
import {
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';
import type { z } from 'zod';
import { redactSecrets } from '../index.js';
import { configSchema, duplicateNames, knownKeys, PROVIDER_TYPES, type ConfigFile } from './config-schema.js';

/** A path into the config file, e.g. `['providers', 1, 'type']`. */
export type ConfigPath = readonly PropertyKey[];

/**
 * A config file that cannot be used. Each line of the message names the file,
 * the line, the field and what was expected:
 * `provider-health.yaml:12: providers[1].type: expected one of docker, …, got "dokcer"`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A validated config file that can still say where each value came from. */
export interface LoadedConfig {
  /** The path as given on the command line. */
  readonly file: string;
  readonly config: ConfigFile;
  /** A {@link ConfigError} about the value at `path`. */
  errorAt(path: ConfigPath, message: string): ConfigError;
}

/**
 * Reads and validates a YAML or JSON config file (JSON is read as YAML, of
 * which it is a subset, so both get line numbers).
 * @throws ConfigError when the file cannot be read, parsed or validated.
 */
export async function loadConfig(file: string, signal?: AbortSignal): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', ...(signal ? { signal } : {}) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (error as Error).message;
    throw new ConfigError(`${file}: cannot read the config file: ${reason}`);
  }
  return parseConfig(text, file);
}

/**
 * Validates config text; `file` labels the error messages.
 * @throws ConfigError listing every problem found.
 */
export function parseConfig(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    const lines = doc.errors.map(
      (error) => `${file}:${lineOf(error.pos[0])}: ${syntaxMessage(error.message)}`,
    );
    throw new ConfigError(lines.join('\n'));
  }
  if (doc.contents === null) {
    throw new ConfigError(`${file}:1: the file is empty; expected a mapping of settings such as providers:`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }

  const lineFor: LineFinder = (path, key = false) => lineAt(doc, path, key, lineOf);
  const problem = (path: ConfigPath, message: string, key = false): Problem => {
    const line = lineFor(path, key);
    return { line, text: `${file}:${line}: ${formatPath(path) || '(top level)'}: ${message}` };
  };
  const result = configSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => describeIssue(issue, data, problem));
    // The schema checks names only once everything else is valid; say it now as well.
    const duplicates = duplicateNames(data).flatMap(({ path: at, message }) =>
      describeIssue({ code: 'custom', path: at, message, input: undefined }, data, problem),
    );
    for (const duplicate of duplicates) {
      if (!problems.some((problem) => problem.text === duplicate.text)) problems.push(duplicate);
    }
    problems.sort((a, b) => a.line - b.line);
    throw new ConfigError(problems.map((problem) => problem.text).join('\n'));
  }
  return {
    file,
    config: result.data,
    errorAt: (path, message) => new ConfigError(problem(path, message).text),
  };
}

/** `['providers', 1, 'type']` → `providers[1].type`. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** One line of a {@link ConfigError}, with its line number for sorting. */
interface Problem {
  readonly line: number;
  readonly text: string;
}

/** The 1-based line of the value (or, with `key`, of the key) at a path. */
type LineFinder = (path: ConfigPath, key?: boolean) => number;

/** Turns one zod issue into problems saying what was expected and what was found. */
function describeIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  make: (path: ConfigPath, message: string, key?: boolean) => Problem,
): Problem[] {
  const path = issue.path;
  const value = valueAt(data, path);
  const present = value !== undefined;
  const got = present ? `, got ${describeValue(value, path)}` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = valueAt(data, path) as Record<string, unknown> | undefined;
      const known = knownKeys(path, parent?.['type']);
      return issue.keys.map((key) => {
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
  if (typeof value === 'string') return redactSecrets(JSON.stringify(value));
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

/** The 1-based line of the node at `path`, or of the nearest node above it. */
function lineAt(doc: Document, path: ConfigPath, key: boolean, lineOf: (offset: number) => number): number {
  let node: unknown = doc.contents;
  let line = isNode(node) && node.range ? lineOf(node.range[0]) : 1;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
      );
      if (pair === undefined) break;
      const keyNode = pair.key as Node;
      if (keyNode.range) line = lineOf(keyNode.range[0]);
      if (last && key) break;
      node = pair.value;
      const valueNode = node as Node | null;
      // An empty value (`port:`) has no useful range: keep the key's line.
      if (valueNode?.range && !(isScalar(valueNode) && valueNode.value === null))
        line = lineOf(valueNode.range[0]);
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (!isNode(node)) break;
      if (node.range) line = lineOf(node.range[0]);
    } else {
      break;
    }
  }
  return line;
}

/** yaml's messages, without the source excerpt. */
function syntaxMessage(message: string): string {
  return `invalid YAML: ${message.split('\n')[0] ?? message}`;
}

/** `; did you mean "host"?` for a near miss, else the list of known keys. */
function unknownKeyHint(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
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
