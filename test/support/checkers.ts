import type { HealthChecker, HealthReport } from '../../src/index.js';

/** A call to a {@link ControlledChecker} that the test settles by hand. */
export interface ControlledCall {
  readonly signal: AbortSignal;
  resolve(report?: HealthReport): void;
  reject(reason: unknown): void;
}

/** A checker whose calls stay pending until the test settles them. */
export interface ControlledChecker extends HealthChecker {
  readonly calls: ControlledCall[];
  /** Calls that have not been settled yet. */
  readonly open: number;
}

export function controlledChecker(): ControlledChecker {
  const calls: ControlledCall[] = [];
  let open = 0;
  return {
    calls,
    get open() {
      return open;
    },
    healthCheck(signal: AbortSignal) {
      open++;
      return new Promise<HealthReport | void>((resolve, reject) => {
        let settled = false;
        const settle = (): boolean => {
          if (settled) return false;
          settled = true;
          open--;
          return true;
        };
        calls.push({
          signal,
          resolve: (report) => settle() && resolve(report),
          reject: (reason) => settle() && reject(reason),
        });
      });
    },
  };
}

/** A checker that answers at once with the given outcome and counts its calls. */
export function countingChecker(
  outcome: () => HealthReport | void | Promise<HealthReport | void> = () => undefined,
) {
  const checker = {
    calls: 0,
    healthCheck: async (_signal: AbortSignal) => {
      checker.calls++;
      return outcome();
    },
  };
  return checker;
}
