import {
  Emitter,
  type CheckResult,
  type CheckerFault,
  type Removal,
  type StatusChange,
  type SweepSummary,
  type Transition,
} from './events.js';
import { reportListenerError } from './registry.js';

/**
 * The emitters of one cache. A listener that throws is reported to
 * `onListenerError` (or, without a subscriber, as a process warning) and never
 * disturbs the cache or the other listeners. @internal
 */
export class CacheEvents {
  readonly listenerError = new Emitter<unknown>((error) => reportListenerError('onListenerError', error));
  readonly result = new Emitter<CheckResult>((error) => this.#failed(error));
  readonly transition = new Emitter<Transition>((error) => this.#failed(error));
  readonly removal = new Emitter<Removal>((error) => this.#failed(error));
  readonly change = new Emitter<StatusChange>((error) => this.#failed(error));
  readonly sweep = new Emitter<SweepSummary>((error) => this.#failed(error));
  readonly fault = new Emitter<CheckerFault>((error) => this.#failed(error));

  #failed(error: unknown): void {
    if (this.listenerError.size > 0) this.listenerError.emit(error);
    else reportListenerError('HealthCache', error);
  }
}
