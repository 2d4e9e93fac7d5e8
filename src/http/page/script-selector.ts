/**
 * Page script, part 6: the label selector box. The server does the
 * selecting: a selector is first tried on `/api/providers?selector=…&limit=1`
 * (a 400 names the position, shown next to the box), then the event stream
 * is reopened with it, so the snapshot, the counts and the changes are the
 * selected providers only. Kept in the URL (`?selector=env%3Dprod`). @internal
 */
export const SCRIPT_SELECTOR = String.raw`
const selector = { applied: '', asked: 0 };

function selectorQuery() {
  return selector.applied ? '&selector=' + encodeURIComponent(selector.applied) : '';
}

function showSelectorError(text, body) {
  const input = $('selector');
  const note = $('selector-error');
  if (!body) {
    input.removeAttribute('aria-invalid');
    note.textContent = '';
    note.hidden = true;
    return;
  }
  input.setAttribute('aria-invalid', 'true');
  note.hidden = false;
  const position = Number.isInteger(body.position) ? body.position : -1;
  note.textContent = (body.error || 'The selector was refused') +
    (position >= 0 && !/position/.test(body.error || '') ? ' (at position ' + position + ')' : '');
  if (position >= 0 && document.activeElement === input) input.setSelectionRange(position, Math.min(text.length, position + 1));
}

// Tries 'text' on the server; when it is accepted, reopens the stream with it.
// 'connectAnyway' (the first load) connects even when the selector is refused,
// without it, so the page is never empty because of a bad link.
async function applySelector(text, connectAnyway) {
  const asked = ++selector.asked;
  let problem;
  if (text !== '') {
    try {
      const response = await fetch(api('/api/providers?limit=1&selector=' + encodeURIComponent(text)), { headers: { Accept: 'application/json' } });
      if (!response.ok) problem = await response.json().catch(() => ({ error: 'HTTP ' + response.status }));
    } catch {
      problem = { error: 'Could not reach the server to check the selector' };
    }
  }
  if (asked !== selector.asked) return; // a newer selector was typed meanwhile
  showSelectorError(text, problem);
  if (problem && !connectAnyway) return;
  const changed = selector.applied !== (problem ? '' : text);
  selector.applied = problem ? '' : text;
  // The first load and back/forward take the selector from the URL: no write then.
  if (!problem && !connectAnyway) writeFilterToUrl();
  if (changed || connectAnyway) connect();
}

function readSelectorFromUrl() {
  return (new URLSearchParams(location.search).get('selector') || '').trim();
}

$('selector-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void applySelector($('selector').value.trim(), false);
});
$('selector').addEventListener('input', () => {
  if ($('selector').value.trim() === '' && selector.applied !== '') void applySelector('', false);
});
`;
