import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
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
import { listProblems, validationProblems, type ConfigPath, type Problem } from './config-issues.js';
import { configSchema, type ConfigFile } from './config-schema.js';
import { quoteKey } from './quote.js';

export type { ConfigPath } from './config-issues.js';

/**
 * A config file that cannot be used. Each line of the message names the file,
 * the line, the field and what was expected:
 * `provider-health.yaml:12: providers[1].type: expected one of docker, …, got "dokcer"`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The largest config file read: 256 KiB (about 2,500 provider entries). Real
 * files are a few kilobytes; the bound keeps a mistaken or hostile file (a
 * 20 MB key) from costing seconds and gigabytes before it is rejected: the
 * YAML parser takes about 1 ms per flow-style entry.
 */
export const MAX_CONFIG_BYTES = 262_144;

/** A validated config file that can still say where each value came from. */
export interface LoadedConfig {
  /** The path as given on the command line. */
  readonly file: string;
  /** The directory relative paths in the file (`tls.ca` …) resolve against. */
  readonly cwd: string;
  readonly config: ConfigFile;
  /** A {@link ConfigError} about the value at `path`. */
  errorAt(path: ConfigPath, message: string): ConfigError;
}

/**
 * Reads and validates a YAML or JSON config file (JSON is read as YAML, of
 * which it is a subset, so both get line numbers). A relative `file` is
 * resolved against `cwd` (default `process.cwd()`).
 * @throws ConfigError when the file cannot be read, is larger than
 * {@link MAX_CONFIG_BYTES}, or cannot be parsed or validated.
 */
export async function loadConfig(
  file: string,
  signal?: AbortSignal,
  cwd = process.cwd(),
): Promise<LoadedConfig> {
  let text: string | undefined;
  try {
    text = await readBounded(resolve(cwd, file), MAX_CONFIG_BYTES, signal);
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
  if (text === undefined) {
    throw new ConfigError(
      `${file}: the file is larger than ${MAX_CONFIG_BYTES} bytes (256 KiB): not a config file this tool reads`,
    );
  }
  return parseConfig(text, file, cwd);
}

/**
 * Reads `path` as UTF-8 if it holds at most `limit` bytes, else `undefined`
 * (reading stops at `limit` + 1: a pipe or `/dev/zero` is bounded too).
 */
export async function readBounded(
  path: string,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return length > limit ? undefined : buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

/**
 * Validates config text; `file` labels the error messages.
 * @throws ConfigError listing every problem found.
 */
export function parseConfig(text: string, file: string, cwd = process.cwd()): LoadedConfig {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  const deep = tooDeep(text);
  if (deep !== undefined) {
    const line = text.slice(0, deep).split('\n').length;
    throw new ConfigError(
      `${file}:${line}: invalid YAML: nested deeper than ${MAX_FLOW_DEPTH} levels of [ and {`,
    );
  }
  // yaml's own uniqueKeys check compares every key with every other (20,000 keys: 19 s): ours is linear.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const syntax: Problem[] = doc.errors.map((error) => {
    const line = lineOf(error.pos[0]);
    return { line, text: `${file}:${line}: ${syntaxMessage(error.message)}` };
  });
  for (const offset of duplicateKeys(doc.contents)) {
    const line = lineOf(offset);
    syntax.push({ line, text: `${file}:${line}: invalid YAML: Map keys must be unique` });
  }
  if (syntax.length > 0) {
    syntax.sort((a, b) => a.line - b.line);
    throw new ConfigError(listProblems(syntax));
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
  if (!result.success) throw new ConfigError(validationProblems(result.error.issues, data, problem));
  return {
    file,
    cwd,
    config: result.data,
    errorAt: (path, message) => new ConfigError(problem(path, message).text),
  };
}

/** `['providers', 1, 'type']` → `providers[1].type`; a long key is cut ({@link quoteKey}). */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? quoteKey(String(segment)) : `.${quoteKey(String(segment))}`;
  }
  return text;
}

/** The 1-based line of the value (or, with `key`, of the key) at a path. */
type LineFinder = (path: ConfigPath, key?: boolean) => number;

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

/** Flow collections (`[`, `{`) nested deeper than this are refused before parsing. */
const MAX_FLOW_DEPTH = 64;

/**
 * The offset where `[`/`{` nesting passes {@link MAX_FLOW_DEPTH}, counting
 * every bracket (also in strings: a real config is nowhere near), or
 * `undefined`. yaml recurses per level: 400,000 `[` took it 10 s.
 */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x5b || code === 0x7b) {
      if (++depth > MAX_FLOW_DEPTH) return index;
    } else if ((code === 0x5d || code === 0x7d) && depth > 0) depth--;
  }
  return undefined;
}

/** The offsets of keys that repeat an earlier key of the same mapping; one pass, no recursion. */
function duplicateKeys(root: unknown): number[] {
  const offsets: number[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) stack.push(...node.items);
    if (!isMap(node)) continue;
    const seen = new Set<unknown>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      if (isScalar(pair.key)) {
        if (seen.has(pair.key.value) && pair.key.range) offsets.push(pair.key.range[0]);
        seen.add(pair.key.value);
      }
      stack.push(pair.value);
    }
  }
  return offsets;
}

/** yaml's messages, without the source excerpt. */
function syntaxMessage(message: string): string {
  return `invalid YAML: ${message.split('\n')[0] ?? message}`;
}
