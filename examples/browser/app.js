// Uses the prebuilt browser bundle of mcpmux/client (dist/browser/mcpmux-client.js, served here
// by serve.mjs). In an app with a bundler: import { MuxClient } from 'mcpmux/client'.
import { MuxClient } from './mcpmux-client.js';

const $ = (id) => document.getElementById(id);
let mux;
let channel;

/** A refused upgrade reaches a page as close 1006, no reason: the same URL as a GET says why. */
async function whyRefused(wsUrl) {
  const res = await fetch(wsUrl.replace(/^ws/, 'http'));
  const body = await res.json().catch(() => ({}));
  return res.ok ? 'the relay would accept it now' : `${body.reason}: ${body.error}`;
}

$('connect').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  await mux?.close();
  const url = new URL($('url').value);
  // A browser cannot set headers on a WebSocket: the token goes in ?access_token=.
  if ($('token').value !== '') url.searchParams.set('access_token', $('token').value);
  $('status').textContent = 'connecting…';
  $('status').className = '';
  try {
    mux = await MuxClient.connect(url.href);
    channel = await mux.open($('service').value);
    await channel.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'mcpmux-browser-example', version: '1.0.0' },
    });
    channel.notify('notifications/initialized');
    const { tools } = await channel.request('tools/list');
    $('tools').replaceChildren(
      ...tools.map((t) => {
        const li = document.createElement('li');
        li.textContent = `${t.name}: ${t.description ?? ''}`;
        li.dataset.tool = t.name;
        return li;
      }),
    );
    $('status').textContent = `session ${channel.session} on ${$('service').value}`;
    $('call').hidden = false;
  } catch (err) {
    $('status').className = 'error';
    const why = await whyRefused(url.href).catch(() => '');
    $('status').textContent = `${err.message}${why ? ` (${why})` : ''}`;
  }
});

$('call').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const result = await channel.request('tools/call', {
      name: $('tool').value,
      arguments: JSON.parse($('args').value),
    });
    $('result').textContent = JSON.stringify(result, null, 2);
  } catch (err) {
    $('result').textContent = `error: ${err.message}`;
  }
});
