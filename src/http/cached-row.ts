import type { HealthView } from '../health-view.js';
import { providerToJSON, type ProviderJSON } from './provider-json.js';
import { rowText } from './row-text.js';

/**
 * A provider's list row as of its current status: the JSON text (written
 * straight from the status when it can be), the wire object only when
 * somebody reads it (`/api/health`, delta streams), and the text's bytes
 * once a list needed them. Dropped from the cache when the status changes. @internal
 */
export class CachedRow {
  readonly #view: HealthView;
  readonly #name: string;
  #json: ProviderJSON | undefined;
  readonly text: string;
  bytes: Buffer | undefined;

  /** `text`: the row's JSON when written straight from its status; built from the row object otherwise (never checked). */
  constructor(view: HealthView, name: string, text: string | undefined) {
    this.#view = view;
    this.#name = name;
    if (text === undefined) {
      this.#json = providerToJSON(view, name);
      text = rowText(this.#json);
    }
    this.text = text;
  }

  get json(): ProviderJSON {
    return (this.#json ??= providerToJSON(this.#view, this.#name));
  }
}

/** `[a,b,…]` from the bytes of JSON values, in one copy. @internal */
export function jsonArrayBytes(items: readonly Buffer[]): Buffer {
  let length = 2 + Math.max(0, items.length - 1);
  for (const item of items) length += item.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  out[at++] = 0x5b; // [
  items.forEach((item, index) => {
    if (index > 0) out[at++] = 0x2c; // ,
    at += item.copy(out, at);
  });
  out[at] = 0x5d; // ]
  return out;
}
