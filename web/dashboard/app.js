// The dashboard's entry point: the live view (GET /events, pushed once a second), the token form
// shown when the relay asks for credentials, and the playground.

import { getToken, HttpError, readEvents, setToken } from './api.js';
import { renderServices, renderSessions } from './live.js';
import { setupPlayground } from './playground.js';

const $ = (id) => document.getElementById(id);
const RETRY_MS = 2000;

const relayState = $('relay-state');
const authForm = $('auth');
const forget = $('forget');

function setState(state, title = '') {
  relayState.textContent = state;
  relayState.dataset.state = state;
  relayState.title = title;
}

const playground = setupPlayground({
  service: $('pg-service'),
  open: $('pg-open'),
  close: $('pg-close'),
  status: $('pg-status'),
  tools: $('pg-tools'),
  form: $('pg-form'),
  toolName: $('pg-tool-name'),
  toolDescription: $('pg-tool-description'),
  fields: $('pg-fields'),
  result: $('pg-result'),
  events: $('pg-events'),
});

function show(snapshot) {
  setState(snapshot.relay);
  $('updated').textContent = `updated ${new Date(snapshot.at).toLocaleTimeString()}`;
  renderServices($('services').tBodies[0], snapshot.services);
  renderSessions($('sessions').tBodies[0], snapshot.sessions);
  $('session-count').textContent = `(${snapshot.sessions.length})`;
  $('no-sessions').hidden = snapshot.sessions.length > 0;
  playground.services(snapshot.services.filter((s) => s.enabled).map((s) => s.name));
}

let controller;
let retryTimer;

async function live() {
  clearTimeout(retryTimer);
  controller?.abort();
  const mine = new AbortController();
  controller = mine;
  forget.hidden = getToken() === '';
  try {
    await readEvents(mine.signal, (name, data) => {
      if (name === 'snapshot') {
        authForm.hidden = true;
        show(data);
      }
    });
    if (mine.signal.aborted) return;
    setState('offline', 'the event stream ended');
  } catch (err) {
    if (mine.signal.aborted) return;
    if (err instanceof HttpError && err.status === 401) {
      setState('unauthorized');
      authForm.hidden = false;
      $('auth-message').textContent = getToken() === '' ? '' : 'that token was refused';
      $('token').focus();
      return; // wait for a token
    }
    setState('offline', err.message);
  }
  retryTimer = setTimeout(live, RETRY_MS);
}

authForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken($('token').value.trim());
  $('token').value = '';
  void live();
});

forget.addEventListener('click', () => {
  setToken('');
  void live();
});

void live();
