import { MAX_DEPENDENCIES, NO_LABELS, validateLabels, type Labels } from '../labels.js';

/**
 * The issue-11 fields of a status record (labels, dependencies, silences),
 * validated and bounded on decode. A record written before they existed has
 * none of them and still decodes, with the empty defaults. Followers show
 * what their own registry and silences say (`HealthCache.restore` recomputes
 * these), so the fields serve readers of the raw records; they are still
 * checked, so no reader is handed garbage. @internal
 */

/** The most silence ids and window names a record carries (a provider under more is cut to the first, sorted). @internal */
export const MAX_RECORD_SILENCED_BY = 256;
/** The longest silence id or window name in a record, in characters. @internal */
export const MAX_RECORD_SILENCE_ID_LENGTH = 256;
/** The longest provider name in `dependsOn` / `blockedBy` of a record, in characters. @internal */
export const MAX_RECORD_NAME_LENGTH = 1024;

/** The metadata of a decoded record. @internal */
export interface RecordMetadata {
  readonly labels: Labels;
  readonly dependsOn: readonly string[];
  readonly blockedBy: readonly string[];
  readonly silencedBy: readonly string[];
}

const NO_NAMES: readonly string[] = Object.freeze([]);

/**
 * Validates the metadata fields of a parsed record of provider `self`.
 * Returns them frozen, or the name of the first bad field. Bounds: labels as
 * at registration (at most 64, Kubernetes rules); `dependsOn` and `blockedBy`
 * at most 64 distinct names of 1 to {@link MAX_RECORD_NAME_LENGTH} characters,
 * `blockedBy` a subset of `dependsOn`, neither naming the provider itself;
 * `silencedBy` at most {@link MAX_RECORD_SILENCED_BY} distinct ids of 1 to
 * {@link MAX_RECORD_SILENCE_ID_LENGTH} characters.
 */
export function decodeMetadata(
  record: Readonly<Record<string, unknown>>,
  self: string,
): RecordMetadata | string {
  let labels: Labels;
  try {
    labels = record.labels === undefined ? NO_LABELS : validateLabels(record.labels);
  } catch {
    return 'labels';
  }
  const dependsOn = names(record.dependsOn, MAX_DEPENDENCIES, MAX_RECORD_NAME_LENGTH);
  if (dependsOn === undefined || dependsOn.includes(self)) return 'dependsOn';
  const blockedBy = names(record.blockedBy, MAX_DEPENDENCIES, MAX_RECORD_NAME_LENGTH);
  if (blockedBy === undefined || !blockedBy.every((name) => dependsOn.includes(name))) return 'blockedBy';
  const silencedBy = names(record.silencedBy, MAX_RECORD_SILENCED_BY, MAX_RECORD_SILENCE_ID_LENGTH);
  if (silencedBy === undefined) return 'silencedBy';
  return { labels, dependsOn, blockedBy, silencedBy };
}

/** The metadata of a status for its record: `silencedBy` cut to {@link MAX_RECORD_SILENCED_BY}. @internal */
export function encodeMetadata(status: RecordMetadata): RecordMetadata {
  const { labels, dependsOn, blockedBy, silencedBy } = status;
  return {
    labels,
    dependsOn,
    blockedBy,
    silencedBy:
      silencedBy.length > MAX_RECORD_SILENCED_BY ? silencedBy.slice(0, MAX_RECORD_SILENCED_BY) : silencedBy,
  };
}

/** A frozen list of distinct non-empty strings within the bounds; `undefined` when it is not one. */
function names(value: unknown, maxCount: number, maxLength: number): readonly string[] | undefined {
  if (value === undefined) return NO_NAMES;
  if (!Array.isArray(value) || value.length > maxCount) return undefined;
  const seen = new Set<string>();
  for (const item of value as unknown[]) {
    if (typeof item !== 'string' || item.length === 0 || item.length > maxLength || seen.has(item))
      return undefined;
    seen.add(item);
  }
  return value.length === 0 ? NO_NAMES : Object.freeze([...seen]);
}
