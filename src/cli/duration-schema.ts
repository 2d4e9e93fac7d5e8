import { z } from 'zod';
import { DURATION_HINT, parseDuration } from './duration.js';

type DurationBounds = Parameters<typeof parseDuration>[1];

/**
 * A config duration: `"30s"`, `"1m30s"`, `"250ms"`, or a number of
 * milliseconds, parsed to milliseconds; the parser's message becomes the
 * issue at the key's line; `bounds` as `parseDuration` takes them. The one
 * duration schema of the config file.
 */
export const durationSchema = (bounds?: DurationBounds) =>
  z.union([z.number(), z.string()], { error: `expected ${DURATION_HINT}` }).transform((value, context) => {
    try {
      return parseDuration(value, bounds);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message, input: value });
      return z.NEVER;
    }
  });
