// The page's only way to the relay: the API behind the relay's auth. The token is typed once and
// kept in sessionStorage (this tab only); it goes in the Authorization header, and in a URL only
// as the WebSocket's ?access_token= (a browser cannot set headers on a WebSocket).

const TOKEN_KEY = 'mcpmux.token';
/** A snapshot is a few KB; a stream buffering more than this without an event is broken. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(token) {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

function authHeaders() {
  const token = getToken();
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}

export class HttpError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.reason = body?.reason;
  }
}

export async function apiJson(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...authHeaders(), ...init.headers } });
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new HttpError(res.status, body);
  return body;
}

/** The /ws URL of this origin, with the token when there is one. */
export function wsUrl(path) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = getToken();
  if (token !== '') url.searchParams.set('access_token', token);
  return url.href;
}

/**
 * Reads GET /events (Server-Sent Events) with fetch, so the token travels in a header (an
 * EventSource could only put it in the URL). Calls onEvent(name, data) per event; resolves when
 * the stream ends; rejects with an HttpError when refused.
 */
export async function readEvents(signal, onEvent) {
  const res = await fetch('/events', { headers: authHeaders(), signal, cache: 'no-store' });
  if (!res.ok) throw new HttpError(res.status, await res.json().catch(() => undefined));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    if (buffer.length > MAX_EVENT_CHARS) throw new Error('event stream: event too large');
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0) onEvent(name, JSON.parse(data.join('\n')));
    }
  }
}
