/** Escapes text for HTML element content and double-quoted attributes. @internal */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='4' fill='%232152c9'/%3E%3Cpath d='M3 8.5h2.5l1.5-3 2 6 1.5-3H13' fill='none' stroke='white' stroke-width='1.6' stroke-linecap='round' stroke-linejoin='round'/%3E%3C/svg%3E";

/**
 * Which optional APIs the handler serves, when known: the page then asks only
 * for those (an unknown one is tried once, and a 404 turns it off). @internal
 */
export interface PageFeatures {
  /** `/api/silences` is served. */
  readonly silences?: boolean | undefined;
  /** `/api/alerts` is served. */
  readonly alerts?: boolean | undefined;
}

function featureAttributes(features: PageFeatures): string {
  const flag = (name: string, on: boolean | undefined): string =>
    on === undefined ? '' : ` data-${name}="${on ? 'on' : 'off'}"`;
  return flag('silences', features.silences) + flag('alerts', features.alerts);
}

/**
 * The status page's HTML: a shell the script fills in. No inline script or
 * style; `title` and `basePath` are escaped. @internal
 */
export function renderHtml(
  title: string,
  basePath: string,
  cssPath: string,
  jsPath: string,
  features: PageFeatures = {},
): string {
  const t = escapeHtml(title);
  const b = escapeHtml(basePath);
  return `<!doctype html>
<html lang="en" data-base="${b}"${featureAttributes(features)}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${t}</title>
<link rel="icon" href="${FAVICON}">
<link rel="stylesheet" href="${escapeHtml(cssPath)}">
<script type="module" src="${escapeHtml(jsPath)}"></script>
</head>
<body>
<header class="topbar">
  <div class="brand">
    <span class="logo" aria-hidden="true"><svg viewBox="0 0 16 16"><path d="M2 8.5h2.5l1.5-3 2 6 1.5-3H14"/></svg></span>
    <h1>${t}</h1>
  </div>
  <span id="overall" class="overall s-unknown">Loading…</span>
  <ul id="counts" class="counts" aria-label="Providers by state"></ul>
  <span class="spacer"></span>
  <div class="actions">
    <span id="connection" class="conn" data-state="connecting" role="status">Connecting…</span>
    <form id="token-form" class="token" hidden>
      <label for="token">Access token</label>
      <input id="token" type="password" autocomplete="off" spellcheck="false">
    </form>
    <button id="refresh-all" type="button">Refresh all</button>
  </div>
</header>
<main>
  <p id="feedback" class="feedback" role="status" aria-live="polite"></p>
  <p id="announcer" class="sr-only" aria-live="polite"></p>
  <section id="alerts" class="alerts" aria-labelledby="alerts-title" hidden>
    <h2 id="alerts-title" class="strip-title">Alerts firing</h2>
    <ul id="alert-list" class="alert-list"></ul>
  </section>
  <section id="silences" class="silences" aria-label="Active silences" hidden>
    <details open>
      <summary><span class="strip-title">Active silences</span> <span id="silence-count" class="silence-count"></span></summary>
      <ul id="silence-list" class="silence-list"></ul>
    </details>
  </section>
  <div class="filters" role="search" aria-label="Filter providers">
    <form id="selector-form" class="selector">
      <label for="selector">Labels</label>
      <input id="selector" type="search" placeholder="env=prod,team!=db" autocomplete="off" spellcheck="false" aria-describedby="selector-error">
      <button type="submit" class="ghost">Apply</button>
      <span id="selector-error" class="field-error" role="alert" hidden></span>
    </form>
    <label class="grouping">Group by <select id="group"><option value="">No grouping</option></select></label>
    <div id="chips" class="chips" role="group" aria-label="Show only providers that are"></div>
    <label class="search"><span class="sr-only">Filter by name</span><input id="filter" type="search" placeholder="Filter by name" autocomplete="off" spellcheck="false"></label>
    <span id="shown" class="shown"></span>
  </div>
  <div class="panel">
    <div id="sizer" class="sizer">
      <table id="table" aria-rowcount="1">
        <caption class="sr-only">Health of every provider, updated live</caption>
        <thead>
          <tr aria-rowindex="1">
            <th scope="col" class="c-state">State</th>
            <th scope="col" class="c-name">Provider</th>
            <th scope="col" class="num c-latency">Latency</th>
            <th scope="col" class="c-spark">Recent latency</th>
            <th scope="col" class="num c-uptime">Uptime</th>
            <th scope="col" class="c-when">Last check</th>
            <th scope="col" class="c-message">Message</th>
            <th scope="col" class="num c-action"><span class="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody id="rows"></tbody>
      </table>
    </div>
    <p id="empty" class="empty" hidden>No providers are registered.</p>
  </div>
</main>
<footer>
  <noscript><p>Live updates need JavaScript.</p></noscript>
  Machine-readable: <a href="${b}/api/providers">providers</a> · <a href="${b}/api/health">health</a> · <a href="${b}/metrics">metrics</a>
</footer>
</body>
</html>
`;
}
