/**
 * The kubeconfig context discovery labels a Kubernetes provider with
 * (`context=<name>`), read the way kubectl merges files: the first file that
 * sets `current-context` wins.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { isLabelValue } from '../labels.js';

/** Kubeconfig files larger than this are not read for the context (real ones are a few KiB). */
export const MAX_KUBECONFIG_BYTES = 1_048_576;

/**
 * The current context of the merged `files`, when it can be a label value
 * (at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends);
 * `undefined` when no file names one, a file cannot be read or parsed, or
 * the name cannot be a label value (an EKS ARN, say): the label is then left off.
 */
export function currentContext(files: readonly string[]): string | undefined {
  for (const file of files) {
    let name: unknown;
    try {
      if (statSync(file).size > MAX_KUBECONFIG_BYTES) return undefined;
      const doc: unknown = parse(readFileSync(file, 'utf8'));
      name =
        typeof doc === 'object' && doc !== null
          ? (doc as Record<string, unknown>)['current-context']
          : undefined;
    } catch {
      return undefined;
    }
    if (typeof name === 'string' && name !== '') return isLabelValue(name) ? name : undefined;
  }
  return undefined;
}
