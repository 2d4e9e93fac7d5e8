/**
 * The config keys that organise and quiet providers: `labels` and `dependsOn`
 * on each provider, `maintenance` windows and the `state` file; and the checks
 * across entries (unknown dependencies, cycles, window names), which read
 * unvalidated data too so that they are reported with every other problem.
 */
import { z } from 'zod';
import {
  checkDependencies,
  isDependencyError,
  labelKeyProblem,
  labelValueProblem,
  MAX_DEPENDENCIES,
  MAX_LABELS,
} from '../labels.js';
import { isSelectorError, parseSelector } from '../selector.js';
import {
  MAX_WINDOW_DURATION,
  MIN_WINDOW_DURATION,
  parseMaintenanceWindow,
  type MaintenanceWindow,
} from '../quiet/maintenance-window.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { optionProblem } from './option-errors.js';
import { quoteString } from './quote.js';

/** A problem found across entries: where, and what. */
export interface CrossProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Names discovery registers: a `dependsOn` may name them when `discover: true`. */
export const DISCOVERED_NAMES: readonly string[] = ['docker', 'kubernetes', 'nomad'];

/** `labels: { env: prod }`: Kubernetes rules for keys and values, at most {@link MAX_LABELS}. */
export const labelsSchema = z
  .record(z.string(), z.string({ error: 'expected a string label value' }), {
    error: 'expected a mapping of label keys to values',
  })
  .superRefine((labels, context) => {
    const keys = Object.keys(labels);
    if (keys.length > MAX_LABELS) {
      context.addIssue({
        code: 'custom',
        message: `expected at most ${MAX_LABELS} labels, got ${keys.length}`,
      });
      return;
    }
    for (const key of keys) {
      const keyProblem = labelKeyProblem(key);
      const value = labels[key] ?? '';
      const valueProblem = keyProblem === undefined ? labelValueProblem(value) : undefined;
      if (keyProblem !== undefined)
        context.addIssue({ code: 'custom', path: [key], message: `invalid label key: ${keyProblem}` });
      else if (valueProblem !== undefined)
        context.addIssue({
          code: 'custom',
          path: [key],
          message: `invalid label value: ${valueProblem}, got ${quoteString(value)}`,
        });
    }
  });

/** `dependsOn: [cluster-eu]`: distinct provider names, at most {@link MAX_DEPENDENCIES}. */
export const dependsOnSchema = z
  .array(z.string({ error: 'expected a provider name' }).min(1, { error: 'expected a provider name' }), {
    error: 'expected a list of provider names',
  })
  .max(MAX_DEPENDENCIES, { error: `expected at most ${MAX_DEPENDENCIES} names` })
  .superRefine((names, context) => {
    const seen = new Set<string>();
    names.forEach((name, index) => {
      if (seen.has(name))
        context.addIssue({ code: 'custom', path: [index], message: `${quoteString(name)} is listed twice` });
      seen.add(name);
    });
  });

const text = z.string({ error: 'expected a string' });

/** A window's duration, through the CLI's duration parser (`2h`): 1s to 7d. */
const windowDuration = z
  .union([z.number(), z.string()], { error: `expected ${DURATION_HINT}` })
  .transform((value, context) => {
    const got = typeof value === 'number' ? String(value) : quoteString(value);
    try {
      const ms = parseDuration(value, { max: MAX_WINDOW_DURATION, text: '7d' });
      if (ms >= MIN_WINDOW_DURATION) return ms;
      context.addIssue({ code: 'custom', message: `expected a duration of at least 1s, got ${got}` });
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
    return z.NEVER;
  });

/** A label selector; a bad one names the position of the problem. */
const selector = text.superRefine((value, context) => {
  try {
    parseSelector(value);
  } catch (error) {
    if (!isSelectorError(error)) throw error;
    context.addIssue({
      code: 'custom',
      message: `expected a label selector (${error.reason} at position ${error.position}), got ${quoteString(value)}`,
    });
  }
});

/**
 * Checks one field of a window on its own, through `parseMaintenanceWindow`
 * with harmless other fields, so that a bad cron and a bad time zone are both
 * reported even when another field of the entry is wrong too.
 */
function windowField(field: 'cron' | 'timeZone') {
  return text.min(1, { error: 'expected a non-empty string' }).superRefine((value, context) => {
    try {
      parseMaintenanceWindow({ name: 'w', cron: '0 0 * * *', duration: 1000, selector: '', [field]: value });
    } catch (error) {
      const problem = optionProblem(error);
      if (problem === undefined) throw error;
      context.addIssue({ code: 'custom', message: problem.message });
    }
  });
}

/**
 * One `maintenance` entry, validated by `parseMaintenanceWindow` (croner for
 * the cron expression, `Intl` for the time zone) and turned into a
 * {@link MaintenanceWindow}; an error names the field.
 */
export const maintenanceSchema = z
  .strictObject({
    /** Unique among windows; shown where a silence id would be. */
    name: text.min(1, { error: 'expected a non-empty string' }),
    /** Five fields (minute hour day-of-month month day-of-week), or six with seconds first. */
    cron: windowField('cron'),
    /** How long each occurrence lasts: 1s to 7d. */
    duration: windowDuration,
    /** An IANA zone; default UTC. */
    timeZone: windowField('timeZone').optional(),
    /** Which providers; `""` selects every provider. */
    selector,
    comment: text.optional(),
  })
  .transform((fields, context): MaintenanceWindow => {
    try {
      return parseMaintenanceWindow(fields, 'maintenance');
    } catch (error) {
      // The fields were checked one by one: what is left (a long name or comment) names itself.
      const problem = optionProblem(error);
      if (problem === undefined) throw error;
      context.addIssue({ code: 'custom', path: problem.option.slice(1), message: problem.message });
      return z.NEVER;
    }
  });

/** `state:`: what must survive a restart in single mode. */
export const stateSchema = z.strictObject({
  /** The state file (silences, history); relative to the working directory. Written atomically. */
  file: text.min(1, { error: 'expected a file path' }),
  /** How often the providers' history is saved to it (1s to 7d; default 1m). */
  saveInterval: windowDuration.optional(),
});

/** Keys of `state`, for "did you mean" hints. */
export const STATE_KEYS = Object.keys(stateSchema.shape);
/** Keys of a `maintenance` entry, for "did you mean" hints. */
export const MAINTENANCE_KEYS = ['name', 'cron', 'duration', 'timeZone', 'selector', 'comment'];

/** The most cycles reported at once (each is found again after cutting the one before). */
const MAX_CYCLES = 20;

/**
 * Problems across entries, from possibly unvalidated data: a provider that
 * depends on itself or on a name no entry has (unless discovery may supply it),
 * dependency cycles (the whole cycle named, at the entry that closes it), and
 * maintenance windows sharing a name.
 */
export function crossProblems(data: unknown): CrossProblem[] {
  const fields = isRecord(data) ? data : {};
  return [
    ...dependencyProblems(fields['providers'], fields['discover'] === true),
    ...windowNameProblems(fields['maintenance']),
  ];
}

function dependencyProblems(providers: unknown, discover: boolean): CrossProblem[] {
  if (!Array.isArray(providers)) return [];
  const problems: CrossProblem[] = [];
  const index = new Map<string, number>();
  providers.forEach((entry: unknown, i) => {
    const name = isRecord(entry) ? entry['name'] : undefined;
    if (typeof name === 'string' && !index.has(name)) index.set(name, i);
  });
  const graph = new Map<string, string[]>();
  for (const [name, i] of index) {
    const entry = providers[i] as Record<string, unknown>;
    const list = Array.isArray(entry['dependsOn']) ? (entry['dependsOn'] as unknown[]) : [];
    const edges: string[] = [];
    list.forEach((dependency, j) => {
      if (typeof dependency !== 'string' || dependency === '') return;
      const at = ['providers', i, 'dependsOn', j];
      if (dependency === name)
        problems.push({ path: at, message: `${quoteString(name)} cannot depend on itself` });
      else if (index.has(dependency)) edges.push(dependency);
      else if (!(discover && DISCOVERED_NAMES.includes(dependency)))
        problems.push({ path: at, message: unknownDependency(dependency) });
    });
    graph.set(name, edges);
  }
  for (const cycle of findCycles(graph)) {
    const [first = '', second = ''] = cycle;
    const i = index.get(first) ?? 0;
    const j = ((providers[i] as Record<string, unknown>)['dependsOn'] as unknown[]).indexOf(second);
    problems.push({
      path: ['providers', i, 'dependsOn', j],
      message: `${quoteString(first)} is in a dependency cycle: ${cycle.map(quoteString).join(' → ')}`,
    });
  }
  return problems;
}

/** The message for a dependency no provider has. */
export function unknownDependency(name: string): string {
  return `unknown provider ${quoteString(name)}: no entry of providers has that name`;
}

/** Every cycle of `graph` (up to {@link MAX_CYCLES}), each closed (`[a, b, a]`); the graph is consumed. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  while (cycles.length < MAX_CYCLES) {
    try {
      checkDependencies(graph);
      break;
    } catch (error) {
      if (!isDependencyError(error) || error.kind !== 'cycle') throw error;
      const cycle = [...error.cycle];
      cycles.push(cycle);
      // Cut the edge that opens the cycle, so the next search finds another one.
      const [first = '', second = ''] = cycle;
      graph.set(
        first,
        (graph.get(first) ?? []).filter((name) => name !== second),
      );
    }
  }
  return cycles;
}

function windowNameProblems(windows: unknown): CrossProblem[] {
  if (!Array.isArray(windows)) return [];
  const problems: CrossProblem[] = [];
  const seen = new Map<string, number>();
  windows.forEach((entry: unknown, i) => {
    const name = isRecord(entry) ? entry['name'] : undefined;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, i);
    else
      problems.push({
        path: ['maintenance', i, 'name'],
        message: `duplicate window name ${quoteString(name)} (also used by maintenance[${first}])`,
      });
  });
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
