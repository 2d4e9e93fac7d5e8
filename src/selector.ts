import { labelKeyProblem, labelValueProblem, type Labels } from './labels.js';

/**
 * Kubernetes label selectors: `env=prod`, `env==prod`, `team!=db`,
 * `tier in (a,b)`, `tier notin (a,b)`, `canary` (the label exists),
 * `!canary` (it does not), joined by commas (all must hold). The empty
 * selector selects everything.
 *
 * One concept in one file (a little over 300 lines): the grammar, its
 * positioned errors and the compiled matcher share the requirement type and
 * are read together.
 */

/** The longest selector accepted, in characters. */
export const MAX_SELECTOR_LENGTH = 4096;
/** The most comma-separated requirements in one selector. */
export const MAX_SELECTOR_REQUIREMENTS = 64;
/** The most values in one `in (…)` / `notin (…)` set. */
export const MAX_SELECTOR_SET_VALUES = 256;

/** How one requirement compares a label. */
export type SelectorOperator = 'equals' | 'notEquals' | 'in' | 'notIn' | 'exists' | 'doesNotExist';

/** One requirement of a selector; `values` is sorted and without duplicates. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** One value for `equals`/`notEquals`, at least one for `in`/`notIn`, none otherwise. */
  readonly values: readonly string[];
}

/** A selector that does not parse: where and why. */
export class SelectorError extends Error {
  /** 0-based index into the selector text where the problem is (its length for "at the end"). */
  readonly position: number;
  /** What went wrong, without the `selector:` prefix and the position. */
  readonly reason: string;

  constructor(reason: string, position: number) {
    super(`selector: ${reason} at position ${position}`);
    this.name = 'SelectorError';
    this.position = position;
    this.reason = reason;
  }
}

/** Whether `error` is a {@link SelectorError}. */
export function isSelectorError(error: unknown): error is SelectorError {
  return error instanceof SelectorError;
}

type Predicate = (labels: Labels) => boolean;

const SELECTIVITY: Readonly<Record<SelectorOperator, number>> = {
  equals: 0,
  in: 1,
  exists: 2,
  notEquals: 3,
  notIn: 4,
  doesNotExist: 5,
};

/** A parsed, compiled selector. Immutable; `matches` allocates nothing. */
export class Selector {
  /** The requirements, in canonical order (by key, then by text). */
  readonly requirements: readonly SelectorRequirement[];
  readonly #match: Predicate;
  readonly #text: string;

  /** @internal Use {@link parseSelector}. */
  constructor(requirements: readonly SelectorRequirement[]) {
    const sorted = requirements
      .map((requirement) => ({ requirement, text: requirementToString(requirement) }))
      .sort((a, b) => compare(a.requirement.key, b.requirement.key) || compare(a.text, b.text));
    this.requirements = Object.freeze(sorted.map((entry) => entry.requirement));
    // Evaluation order is free in a conjunction: the requirements most likely to fail
    // (a label must equal or be in something) go first, so most sets are rejected early.
    const order = [...this.requirements].sort((a, b) => SELECTIVITY[a.operator] - SELECTIVITY[b.operator]);
    this.#match = conjunction(order.map(compile));
    this.#text = sorted.map((entry) => entry.text).join(',');
  }

  /** Whether this selector selects everything (it has no requirements). */
  get empty(): boolean {
    return this.requirements.length === 0;
  }

  /** Whether `labels` satisfy every requirement (`undefined` counts as no labels). */
  matches(labels: Labels | undefined): boolean {
    return this.#match(labels ?? EMPTY);
  }

  /** The canonical form: requirements sorted by key, `=` for equality, set values sorted, no spaces but after `in`/`notin`. */
  toString(): string {
    return this.#text;
  }

  /** The canonical form, so a selector serialises as its text. */
  toJSON(): string {
    return this.#text;
  }
}

const EMPTY: Labels = Object.freeze(Object.create(null) as Record<string, string>);

/** The selector that selects everything. */
export const EVERYTHING: Selector = new Selector([]);

/**
 * Parses a selector in Kubernetes syntax.
 * @throws SelectorError naming the 0-based position of the problem.
 * @throws TypeError when `text` is not a string.
 */
export function parseSelector(text: string): Selector {
  if (typeof text !== 'string') throw new TypeError(`selector: expected a string, got ${typeof text}`);
  if (text.length > MAX_SELECTOR_LENGTH)
    throw new SelectorError(`longer than ${MAX_SELECTOR_LENGTH} characters`, MAX_SELECTOR_LENGTH);
  return new Selector(new Parser(text).parse());
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One requirement in canonical text form. */
function requirementToString({ key, operator, values }: SelectorRequirement): string {
  switch (operator) {
    case 'equals':
      return `${key}=${values[0] ?? ''}`;
    case 'notEquals':
      return `${key}!=${values[0] ?? ''}`;
    case 'in':
      return `${key} in (${values.join(',')})`;
    case 'notIn':
      return `${key} notin (${values.join(',')})`;
    case 'exists':
      return key;
    case 'doesNotExist':
      return `!${key}`;
  }
}

/** One predicate for all of `predicates`; the common short cases without a loop. */
function conjunction(predicates: readonly Predicate[]): Predicate {
  const [a, b, c] = predicates;
  if (a === undefined) return () => true;
  if (b === undefined) return a;
  if (c === undefined) return (labels) => a(labels) && b(labels);
  if (predicates.length === 3) return (labels) => a(labels) && b(labels) && c(labels);
  return (labels) => {
    for (let i = 0; i < predicates.length; i++) if (!(predicates[i] as Predicate)(labels)) return false;
    return true;
  };
}

/**
 * A predicate per requirement. A label is present only when it is an own
 * string: `typeof` rules out inherited members (`constructor`) of plain objects.
 */
function compile({ key, operator, values }: SelectorRequirement): Predicate {
  const value = values[0] ?? '';
  // A Set pays off only for larger sets; a short array scan is faster.
  const set = values.length > 8 ? new Set(values) : undefined;
  const inSet = (v: string): boolean => (set === undefined ? values.includes(v) : set.has(v));
  switch (operator) {
    case 'equals':
      return (labels) => labels[key] === value;
    case 'notEquals':
      return (labels) => labels[key] !== value;
    case 'in':
      return (labels) => {
        const v = labels[key];
        return typeof v === 'string' && inSet(v);
      };
    case 'notIn':
      return (labels) => {
        const v = labels[key];
        return typeof v !== 'string' || !inSet(v);
      };
    case 'exists':
      return (labels) => typeof labels[key] === 'string';
    case 'doesNotExist':
      return (labels) => typeof labels[key] !== 'string';
  }
}

const WORD = /[A-Za-z0-9._/-]/;

/** A recursive-descent parser over the selector text; every error names a position. */
class Parser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  parse(): SelectorRequirement[] {
    const requirements: SelectorRequirement[] = [];
    this.#skipSpace();
    if (this.#pos === this.#text.length) return requirements;
    for (;;) {
      if (requirements.length === MAX_SELECTOR_REQUIREMENTS)
        throw new SelectorError(`more than ${MAX_SELECTOR_REQUIREMENTS} requirements`, this.#pos);
      requirements.push(this.#requirement());
      this.#skipSpace();
      if (this.#pos === this.#text.length) return requirements;
      this.#expect(',', 'expected "," or the end');
      this.#skipSpace();
    }
  }

  #requirement(): SelectorRequirement {
    if (this.#text[this.#pos] === '!') {
      this.#pos++;
      this.#skipSpace();
      return { key: this.#key('after "!"'), operator: 'doesNotExist', values: [] };
    }
    const key = this.#key('');
    this.#skipSpace();
    const start = this.#pos;
    const rest = this.#text.slice(start, start + 2);
    if (rest === '==' || rest === '!=' || rest.startsWith('=')) {
      const operator = rest === '!=' ? 'notEquals' : 'equals';
      this.#pos += rest === '==' || rest === '!=' ? 2 : 1;
      this.#skipSpace();
      return { key, operator, values: [this.#value(true)] };
    }
    const word = this.#peekWord();
    if (word === 'in' || word === 'notin') {
      this.#pos += word.length;
      return { key, operator: word === 'in' ? 'in' : 'notIn', values: this.#set(word) };
    }
    if (word !== '') {
      throw new SelectorError(
        `expected "=", "==", "!=", "in", "notin", "," or the end after key ${quote(key)}`,
        start,
      );
    }
    return { key, operator: 'exists', values: [] };
  }

  /** `(a,b,…)` after `in`/`notin`: at least one value, sorted and deduplicated. */
  #set(operator: string): string[] {
    this.#skipSpace();
    this.#expect('(', `expected "(" after "${operator}"`);
    const values = new Set<string>();
    let after = `"${operator} ("`;
    for (;;) {
      this.#skipSpace();
      if (this.#peekWord() === '') throw new SelectorError(`expected a value after ${after}`, this.#pos);
      if (values.size === MAX_SELECTOR_SET_VALUES)
        throw new SelectorError(`more than ${MAX_SELECTOR_SET_VALUES} values in a set`, this.#pos);
      values.add(this.#value(false));
      this.#skipSpace();
      if (this.#text[this.#pos] === ')') {
        this.#pos++;
        return [...values].sort(compare);
      }
      this.#expect(',', 'expected "," or ")"');
      after = '","';
    }
  }

  #key(context: string): string {
    const start = this.#pos;
    const key = this.#readWord();
    if (key === '') {
      const what = this.#pos === this.#text.length ? 'the end' : quote(this.#text[this.#pos] ?? '');
      throw new SelectorError(
        `expected a label key${context === '' ? '' : ` ${context}`}, got ${what}`,
        start,
      );
    }
    const problem = labelKeyProblem(key);
    if (problem !== undefined) throw new SelectorError(`invalid label key ${quote(key)} (${problem})`, start);
    return key;
  }

  /** A value; after `=`/`!=` it may be empty (it matches a label whose value is empty). */
  #value(allowEmpty: boolean): string {
    const start = this.#pos;
    const value = this.#readWord();
    if (value === '' && !allowEmpty) throw new SelectorError('expected a value', start);
    const problem = labelValueProblem(value);
    if (problem !== undefined) throw new SelectorError(`invalid value ${quote(value)} (${problem})`, start);
    return value;
  }

  #peekWord(): string {
    const start = this.#pos;
    const word = this.#readWord();
    this.#pos = start;
    return word;
  }

  #readWord(): string {
    const start = this.#pos;
    while (this.#pos < this.#text.length && WORD.test(this.#text[this.#pos] as string)) this.#pos++;
    return this.#text.slice(start, this.#pos);
  }

  #expect(char: string, reason: string): void {
    if (this.#text[this.#pos] === char) {
      this.#pos++;
      return;
    }
    const got = this.#pos === this.#text.length ? 'the end' : quote(this.#text[this.#pos] ?? '');
    throw new SelectorError(`${reason}, got ${got}`, this.#pos);
  }

  #skipSpace(): void {
    while (this.#text[this.#pos] === ' ' || this.#text[this.#pos] === '\t') this.#pos++;
  }
}

/** Quotes a fragment of the input for a message, cut to 60 characters. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
