/**
 * Rendezvous (highest random weight) hashing: each provider goes to the
 * member whose hash with the provider's name is highest. Every replica
 * computes the same owners from the same member list, with no coordination;
 * when a member joins or leaves, only the providers it wins or held move
 * (about 1/N of them), never the rest. @internal
 */

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's finaliser: spreads every input bit over the whole word. */
function mix(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The weight of `member` for a name whose FNV hash is `nameHash`. */
function weight(memberHash: number, nameHash: number): number {
  return mix(memberHash ^ mix(nameHash ^ 0x9e3779b9));
}

/**
 * Assigns names to members. Members are replica ids; the result maps each
 * name to its owner. Ties (vanishingly rare) go to the smaller id, so every
 * replica agrees. O(names × members), done only when either changes.
 */
export class Rendezvous {
  readonly #nameHashes = new Map<string, number>();

  /** The owner of each of `names` among `members` (none when there are no members). */
  assign(names: Iterable<string>, members: readonly string[]): Map<string, string> {
    const sorted = [...new Set(members)].sort();
    const memberHashes = sorted.map(fnv1a);
    const owners = new Map<string, string>();
    if (sorted.length === 0) return owners;
    for (const name of names) {
      let nameHash = this.#nameHashes.get(name);
      if (nameHash === undefined) {
        nameHash = fnv1a(name);
        this.#nameHashes.set(name, nameHash);
      }
      let best = 0;
      let bestWeight = -1;
      for (let i = 0; i < sorted.length; i++) {
        const w = weight(memberHashes[i]!, nameHash);
        if (w > bestWeight) {
          best = i;
          bestWeight = w;
        }
      }
      owners.set(name, sorted[best]!);
    }
    return owners;
  }

  /** Forgets the cached hashes of names no longer registered. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.#nameHashes.keys()) if (!names.has(name)) this.#nameHashes.delete(name);
  }
}
