/**
 * A URL rendered for people: no userinfo, and every query value replaced by
 * `***`, since any of them may be a token.
 * @internal
 */
export function safeUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  const keys = [...copy.searchParams.keys()];
  if (keys.length > 0) {
    // Built by hand: URLSearchParams would percent-encode the asterisks.
    copy.search = `?${keys.map((key) => (copy.searchParams.get(key) === '' ? encodeURIComponent(key) : `${encodeURIComponent(key)}=***`)).join('&')}`;
  }
  copy.hash = '';
  return copy.href;
}
