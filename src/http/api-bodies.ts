import type { Clock } from '../clock.js';
import type { Disposable } from '../disposable.js';
import type { HealthView } from '../health-view.js';
import { BodyCache, cachedBytes, JSON_TYPE, toCachedBody, type CachedBody } from './body-cache.js';
import { pageOf, type PageAccess } from './provider-list.js';
import {
  allHistoryToJSON,
  DETAIL_FIELDS,
  fieldMask,
  historyToJSON,
  providerToJSON,
  type ProviderJSON,
} from './provider-json.js';
import { CachedRow, jsonArrayBytes } from './cached-row.js';
import { listRowText } from './list-row-text.js';
import { fieldsText, rowText } from './row-text.js';
import type { HealthQuery } from './health-query.js';
import type { ProvidersQuery } from './providers-query.js';
import { healthBody } from './health-body.js';
import { Throttle } from './throttle.js';
import { RowWarmer } from './row-warmer.js';

/**
 * The JSON bodies of the read API, each serialised once per published
 * version and then served as bytes (and compressed forms) to every request.
 *
 * A new version is published at the first change after a quiet
 * `interval`, and then at most once per `interval` while statuses keep
 * changing (a sweep of 10,000 providers changes them 10,000 times). The
 * rate adapts to what building costs: versions are published at least
 * {@link BUILD_COST_FACTOR} times the last version's build time apart
 * (measured on the real clock, all its bodies together), so building takes
 * at most about a quarter of the event loop however large the fleet. Bodies
 * trail the newest results by at most `max(interval, 4 × last build time)`
 * (about 400 ms at 10,000 providers, see the README). Registrations and
 * removals publish at once. While somebody read rows in the last
 * {@link WARM_AFTER_READ} ms, changed rows are built between turns of the
 * event loop ({@link RowWarmer}), so a new version costs its first request a
 * copy and a hash, not 10,000 rows at once. One concept (a little over 300
 * lines): every body shares the row cache and the publication throttle. @internal
 */
/** Versions are published at least this many times the last version's build time apart. @internal */
export const BUILD_COST_FACTOR = 4;
/** Changed rows are rebuilt ahead of requests while rows were read in this many ms (see {@link RowWarmer}). @internal */
export const WARM_AFTER_READ = 2_000;
/** Unbuilt list rows from which a read waits for them to be built between turns (see `ApiBodies.rowsBuilt`). @internal */
export const COLD_ROWS = 1_000;

export class ApiBodies implements Disposable {
  readonly #view: HealthView;
  readonly #cache = new BodyCache();
  readonly #publisher: Throttle;
  readonly #subscriptions: Disposable[];
  /** Where `/api/providers` is served, for the next-page links. */
  readonly #listPath: string;
  /** Every provider in the wire form, built once per version and shared by the list variants. */
  #rows: ProviderJSON[] | undefined;
  /**
   * Each provider's wire form and its JSON, kept across versions: a version
   * rebuilds only the providers that changed since the last one (during a
   * sweep a quarter of the fleet per 250 ms, not all of it four times).
   */
  readonly #rowCache = new Map<string, CachedRow>();
  readonly #clock: Clock;
  /** A monotonic ms clock for build times (real time: the cost is real CPU on this thread). */
  readonly #elapsed: () => number;
  /** What building the current version's bodies cost so far (ms), and the last version that built any. */
  #buildCost = 0;
  #lastBuild = 0;
  /** Nesting of timed builds: only the outermost is counted. */
  #building = 0;
  /** The hour (since the epoch) the rows were built in: `uptime_24h` and the like move at hour boundaries. */
  #hour = -1;
  /** When rows were last read (clock ms): changed rows are built ahead only while somebody reads them. */
  #readAt = -Infinity;
  readonly #buildRow = (name: string): void => {
    if (this.#view.registry.has(name)) this.#timed(() => this.#rowBytes(name));
  };
  readonly #warmer = new RowWarmer(this.#buildRow);
  /** Builds the rows a cold read found unbuilt; a warmer of its own, so that the rows a sweep keeps changing do not hold that read. */
  readonly #coldRows = new RowWarmer(this.#buildRow);

  constructor(
    view: HealthView,
    clock: Clock,
    interval: number,
    basePath: string,
    elapsed: () => number = () => performance.now(),
  ) {
    this.#view = view;
    this.#clock = clock;
    this.#elapsed = elapsed;
    this.#listPath = `${basePath}/api/providers`;
    this.#publisher = new Throttle(
      clock,
      () => Math.max(interval, this.minimumSpacing),
      () => {
        if (this.#buildCost > 0) this.#lastBuild = this.#buildCost;
        this.#buildCost = 0;
        this.#cache.invalidate();
        this.#rows = undefined;
      },
    );
    this.#subscriptions = [
      view.onChange(({ name }) => {
        this.#rowCache.delete(name);
        if (this.#clock.now() - this.#readAt < WARM_AFTER_READ) this.#warmer.add(name);
        this.#publisher.poke();
      }),
      view.registry.onChange(({ name }) => {
        this.#rowCache.delete(name);
        this.#warmer.delete(name);
        this.#publisher.run();
      }),
    ];
  }

  /** Publishes a pending change now (an event stream's snapshot must not miss one). */
  flush(): void {
    if (this.#publisher.pending) this.#publisher.run();
  }

  /**
   * The least time (ms) between two published versions from what building
   * costs: {@link BUILD_COST_FACTOR} × the last version's build time (or the
   * current one's, when larger).
   */
  get minimumSpacing(): number {
    return BUILD_COST_FACTOR * Math.max(this.#lastBuild, this.#buildCost);
  }

  /** Runs a build of this version's bodies, adding its time to the version's cost. */
  #timed<T>(build: () => T): T {
    if (this.#building > 0) return build();
    this.#building++;
    const started = this.#elapsed();
    try {
      return build();
    } finally {
      this.#building--;
      this.#buildCost += this.#elapsed() - started;
    }
  }

  /** Every provider in the wire form, as published. */
  rows(): readonly ProviderJSON[] {
    this.#readRows();
    this.#rows ??= this.#timed(() => this.#view.registry.names().map((name) => this.#row(name).json));
    return this.#rows;
  }

  /**
   * The current wire form of `name` and its JSON text, built once per status
   * (event streams share it with the list bodies); `name` must be registered.
   */
  row(name: string): { readonly json: ProviderJSON; readonly text: string } {
    this.#readRows();
    return this.#row(name);
  }

  #row(name: string): CachedRow {
    let row = this.#rowCache.get(name);
    if (row === undefined) {
      const status = this.#view.get(name);
      const text = status === undefined ? undefined : listRowText(this.#view, status);
      row = new CachedRow(this.#view, name, text);
      this.#rowCache.set(name, row);
    }
    return row;
  }

  /** The UTF-8 bytes of `name`'s row, encoded once per status like its text. */
  #rowBytes(name: string): Buffer {
    const row = this.#row(name);
    return (row.bytes ??= Buffer.from(row.text));
  }

  /**
   * `GET /api/providers`: the same bytes as `JSON.stringify` of the rows,
   * copied from each row's cached bytes (encoding only the rows that
   * changed, not a 4 MB string per version at 10,000 providers).
   */
  providers(): CachedBody {
    this.#readRows();
    return this.#cache.bytes('providers', () =>
      this.#timed(() => jsonArrayBytes(this.#view.registry.names().map((name) => this.#rowBytes(name)))),
    );
  }

  /**
   * `GET /api/providers` with parameters: each distinct (normalised) query is
   * serialised once per version; a next page is named in a `Link` header,
   * so the body stays the Go-wire array. Filters read each provider's
   * status and registry labels; with `?fields=`, rows are built with those
   * fields only (no full row is built and then cut).
   */
  providerList(query: ProvidersQuery): CachedBody {
    // A `?fields=` list builds its own rows: it does not need full rows built ahead.
    if (query.fields === undefined) this.#readRows();
    else this.#hourly();
    if (query.key === '') return this.providers();
    return this.#cache.variant(query.key, () =>
      this.#timed(() => {
        const names = this.#view.registry.names();
        const page = pageOf(names, this.#access, query, this.#listPath);
        const { fields } = query;
        const body =
          fields === undefined
            ? jsonArrayBytes(page.items.map((name) => this.#rowBytes(name)))
            : Buffer.from(`[${page.items.map((name) => this.fieldsRow(name, fields).text).join(',')}]`);
        const link = page.next === undefined ? undefined : { Link: `<${page.next}>; rel="next"` };
        return cachedBytes(200, body, JSON_TYPE, link);
      }),
    );
  }

  /** `name`'s row with `fields` only and its JSON text (wire order, `name` first), built from its current status. */
  fieldsRow(
    name: string,
    fields: readonly string[],
  ): { readonly json: Record<string, unknown>; readonly text: string } {
    const json = providerToJSON(this.#view, name, fieldMask(fields)) as unknown as Record<string, unknown>;
    return { json, text: fieldsText(json, fields) };
  }

  /** A provider's state and labels for the filters, as its row would have them. */
  readonly #access: PageAccess<string> = {
    name: (name) => name,
    state: (name) => this.#view.get(name)?.state ?? 'unknown',
    labels: (name) => this.#view.registry.labels(name),
  };

  /** `GET /api/providers/{name}`: every field, the window percentiles too; the caller checked that `name` is registered. */
  provider(name: string): CachedBody {
    this.#hourly();
    return this.#cache.bytes(`provider:${name}`, () =>
      Buffer.from(rowText(providerToJSON(this.#view, name, DETAIL_FIELDS))),
    );
  }

  /**
   * Before {@link providerList}: `undefined` when `query` builds rows of its
   * own (`?fields=`) or fewer than {@link COLD_ROWS} rows are unbuilt (the
   * read builds them), else a promise that resolves once they are built
   * between turns of the event loop. After a quiet spell every changed row
   * is unbuilt: at 10,000 providers building them at once held the event
   * loop 60–70 ms, and every other request waited. Never rejects.
   */
  rowsBuilt(query: ProvidersQuery): Promise<void> | undefined {
    if (query.fields !== undefined) return undefined;
    this.#readRows();
    const names = this.#view.registry.names();
    // Rows are dropped when their status or registration changes: the cache holds registered names only.
    if (names.length - this.#rowCache.size < COLD_ROWS) return undefined;
    // Reads arriving while a cold build runs wait for it rather than each scanning every name.
    if (this.#coldRows.pending === 0) {
      for (const name of names) if (!this.#rowCache.has(name)) this.#coldRows.add(name);
    }
    return this.#coldRows.idle();
  }

  /** A read of list rows: from now on, changed rows are built ahead for a while. */
  #readRows(): void {
    // One clock read: event streams call this for every changed row.
    const now = this.#clock.now();
    this.#hourly(now);
    this.#readAt = now;
  }

  /** In a new hour every row is rebuilt: the window figures moved though no status changed (no timer needed). */
  #hourly(now = this.#clock.now()): void {
    const hour = Math.floor(now / 3_600_000);
    if (hour === this.#hour) return;
    this.#hour = hour;
    this.#rowCache.clear();
    this.#rows = undefined;
    this.#cache.invalidate();
  }

  /** `GET /api/providers/{name}/history`; the caller checked that `name` is registered. */
  history(name: string): CachedBody {
    return this.#cache.get(`history:${name}`, () => ({
      status: 200,
      value: { name, samples: historyToJSON(this.#view, name) },
    }));
  }

  /** `GET /api/history`. */
  allHistory(): CachedBody {
    return this.#cache.get('history', () =>
      this.#timed(() => ({ status: 200, value: allHistoryToJSON(this.#view) })),
    );
  }

  /**
   * `GET /api/health` for `query`. Providers blocked by a failed dependency
   * or silenced are listed apart (`blocked`, `silenced`) and do not make the
   * answer 503 unless the query includes them; the plain form is cached per
   * version, filtered forms as query variants (at most `MAX_VARIANTS`).
   */
  health(query: HealthQuery): CachedBody {
    if (query.key === '')
      return this.#cache.get('health', () => this.#timed(() => healthBody(this.rows(), query)));
    return this.#cache.variant(`health?${query.key}`, () =>
      this.#timed(() => {
        const { status, value } = healthBody(this.rows(), query);
        return toCachedBody(status, value);
      }),
    );
  }

  dispose(): void {
    for (const subscription of this.#subscriptions) subscription.dispose();
    this.#publisher.cancel();
    this.#warmer.dispose();
    this.#coldRows.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
