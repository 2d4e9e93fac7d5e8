/** The Redis keys one group of replicas shares, all under one prefix. @internal */
export interface SharedKeys {
  readonly lease: string;
  readonly token: string;
  readonly statuses: string;
  readonly updates: string;
  readonly refresh: string;
  /** Hash of the shared silences, one field per silence id (silence-store.ts). */
  readonly silences: string;
  /** A token changed with every change of `silences`; replicas poll it. */
  readonly silencesVersion: string;
}

/** Derives the shared keys from the `key` option. @internal */
export function sharedKeys(prefix: string): SharedKeys {
  return Object.freeze({
    lease: `${prefix}:lease`,
    token: `${prefix}:token`,
    statuses: `${prefix}:statuses`,
    updates: `${prefix}:updates`,
    refresh: `${prefix}:refresh`,
    silences: `${prefix}:silences`,
    silencesVersion: `${prefix}:silences:version`,
  });
}
