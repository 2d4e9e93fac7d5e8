import { createPageAssets } from './page/assets.js';
import type { PageFeatures } from './page/html.js';
import { sendCached } from './responses.js';
import { NAME, READ, type Route } from './route-table.js';

/**
 * The status page at the base path and its content-addressed files under
 * `assets/`; `features` says which optional APIs (silences, alerts) the page
 * may ask for. @internal
 */
export function pageRoutes(title: string, basePath: string, features: PageFeatures = {}): Route[] {
  const page = createPageAssets(title, basePath, features);
  return [
    { path: [], methods: READ, serve: (req, res) => sendCached(req, res, page.html) },
    {
      path: ['assets', NAME],
      methods: READ,
      accepts: (file) => page.assets.has(file),
      serve: (req, res, file) => {
        const asset = page.assets.get(file);
        if (asset) sendCached(req, res, asset);
      },
    },
  ];
}
