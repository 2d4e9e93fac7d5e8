import { cachedBytes, etagOf, type CachedBody } from '../body-cache.js';
import { renderHtml, type PageFeatures } from './html.js';
import { SCRIPT } from './script.js';
import { STYLES } from './styles.js';

/** The page and its files, keyed by file name under `<base>/assets/`. @internal */
export interface PageAssets {
  readonly html: CachedBody;
  readonly assets: ReadonlyMap<string, CachedBody>;
}

/**
 * Only same-origin script, style and fetches; nothing inline, no framing, no
 * forms. Names and messages are rendered as text, so even a bug there could
 * not run script. @internal
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** Headers of the HTML page. @internal */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
});

/** Content-addressed files never change under their name. */
const IMMUTABLE = Object.freeze({ 'Cache-Control': 'public, max-age=31536000, immutable' });

function asset(name: string, text: string, contentType: string): [string, CachedBody] {
  const bytes = Buffer.from(text);
  // The file name carries the content hash, so a new version is never served from a stale cache.
  const file = name.replace(
    '.',
    `.${etagOf(bytes)
      .slice(1, 11)
      .replace(/[^A-Za-z0-9]/g, '0')}.`,
  );
  return [file, cachedBytes(200, bytes, contentType, IMMUTABLE)];
}

/** Builds the page for a title and base path, asking only for the optional APIs served. @internal */
export function createPageAssets(title: string, basePath: string, features: PageFeatures = {}): PageAssets {
  const [cssFile, css] = asset('status.css', STYLES, 'text/css; charset=utf-8');
  const [jsFile, js] = asset('status.js', SCRIPT, 'text/javascript; charset=utf-8');
  const html = Buffer.from(
    renderHtml(title, basePath, `${basePath}/assets/${cssFile}`, `${basePath}/assets/${jsFile}`, features),
  );
  return {
    html: cachedBytes(200, html, 'text/html; charset=utf-8', PAGE_SECURITY_HEADERS),
    assets: new Map([
      [cssFile, css],
      [jsFile, js],
    ]),
  };
}
