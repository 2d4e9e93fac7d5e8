import { isSelectorError, parseSelector, type Selector } from '../selector.js';

/**
 * The `?selector=` query parameter of `/api/providers`, `/api/health` and
 * `/api/events`: a Kubernetes label selector over each provider's labels.
 * Bounds are the parser's (`MAX_SELECTOR_LENGTH` characters,
 * `MAX_SELECTOR_REQUIREMENTS` requirements, `MAX_SELECTOR_SET_VALUES` values
 * per set), and `maxUrlLength` bounds the request target before that.
 */

/** A refused `selector` parameter: the parser's message and the 0-based position of the problem. @internal */
export interface SelectorParamError {
  readonly error: string;
  readonly parameter: 'selector';
  readonly position: number;
}

/**
 * Parses `value`; an empty selector (`?selector=`) gives `undefined`, as
 * if the parameter were absent (it selects everything). @internal
 */
export function selectorParam(value: string): Selector | undefined | SelectorParamError {
  let selector: Selector;
  try {
    selector = parseSelector(value);
  } catch (error) {
    if (!isSelectorError(error)) throw error;
    return {
      error: `Query parameter "selector" is not a valid label selector: ${error.message}`,
      parameter: 'selector',
      position: error.position,
    };
  }
  return selector.empty ? undefined : selector;
}
