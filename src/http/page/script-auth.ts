/**
 * Page script, part 5: the writes (refresh, expiring a silence) and their
 * authorisation, one way for all: a bearer token kept in session storage,
 * asked for on a 401 and then the refused action retried; a 403 means the
 * server has no token and only takes writes from loopback. @internal
 */
export const SCRIPT_AUTH = String.raw`
let token = sessionStorage.getItem('provider-health-token') || '';
// What to do once a token is entered: the action a 401 refused.
let afterToken = () => refresh($('refresh-all'));

// A write to the API, with the token when one is known. Never throws: a
// network error is status 0.
async function write(path, method) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  try {
    const response = await fetch(api(path), { method, headers });
    const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
    return { status: response.status, body, retryAfter: Number(response.headers.get('Retry-After')) || 1 };
  } catch {
    return { status: 0, body: {}, retryAfter: 0 };
  }
}

// Explains a refused write; 'what' completes "needs a token to …" / "only allowed … to …".
function refused(result, what, retry) {
  if (result.status === 0) return feedback('Could not reach the server.', 'error');
  if (result.status === 401) {
    afterToken = retry;
    $('token-form').hidden = false;
    $('token').focus();
    return feedback(token ? 'That token was not accepted.' : 'This server needs a token to ' + what + ': enter it and retry.', 'error');
  }
  if (result.status === 403) {
    return feedback('Only the server itself may ' + what + ' (no token is configured).', 'error');
  }
  feedback('Could not ' + what + ': ' + (result.body.error || 'HTTP ' + result.status), 'error');
}

async function busy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

function refresh(button, name) {
  const path = name === undefined ? '/api/refresh' : '/api/providers/' + encodeURIComponent(name) + '/refresh';
  const what = name === undefined ? 'every provider' : name;
  feedback(name === undefined ? 'Checking every provider\u2026' : 'Checking ' + name + '\u2026');
  return busy(button, async () => {
    const result = await write(path, 'POST');
    if (result.status === 200) feedback('Checked ' + what + '.', 'ok');
    else if (result.status === 202) feedback('Still checking ' + what + '; results appear as they arrive.', 'ok');
    else if (result.status === 429) feedback('Checked moments ago: try again in ' + result.retryAfter + ' s.', 'error');
    else if (result.status === 401) refused(result, 'refresh', () => refresh(button, name));
    else refused(result, 'refresh', undefined);
  });
}

$('refresh-all').addEventListener('click', (event) => refresh(event.currentTarget));
$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token').value.trim();
  if (token) sessionStorage.setItem('provider-health-token', token);
  else sessionStorage.removeItem('provider-health-token');
  void afterToken();
});
`;
