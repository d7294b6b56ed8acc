// The playground: one MCP session over /ws (subprotocol mcpmux.v1, one channel), as any browser
// client would open it. Lists the service's tools, builds a form from a tool's input schema,
// calls it and shows the result, its progress and every notification as they arrive.

import { apiJson, HttpError, wsUrl } from './api.js';
import { buildForm } from './schema-form.js';

const CHANNEL = 'playground';
const REQUEST_TIMEOUT_MS = 120_000;
const MAX_EVENTS = 200;
const MAX_TOOL_PAGES = 50;

class MuxSession {
  #ws;
  #nextId = 1;
  #pending = new Map();
  constructor(handlers) {
    this.handlers = handlers;
  }

  /** Opens the socket and the channel, then initializes; resolves with the session id. */
  open(service) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl('/ws'), 'mcpmux.v1');
      this.#ws = ws;
      let opened = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: 'open', channel: CHANNEL, service }));
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        for (const { reject: fail, timer } of this.#pending.values()) {
          clearTimeout(timer);
          fail(new Error('connection closed'));
        }
        this.#pending.clear();
        if (!opened) reject(new RefusedUpgrade(ev.code));
        this.handlers.closed(ev.reason || `connection closed (${ev.code})`);
      };
      ws.onmessage = (ev) => {
        const env = JSON.parse(ev.data);
        if (env.type === 'opened') {
          opened = true;
          resolve(env.session);
        } else if (env.type === 'message') this.#onMessage(env.message);
        else if (env.type === 'closed') {
          this.handlers.closed(`${env.reason}: ${env.message ?? ''}`);
          ws.close(1000);
        } else if (env.type === 'error') {
          if (!opened) reject(new Error(`${env.reason}: ${env.message}`));
          this.handlers.event(`error ${env.reason}: ${env.message}`);
        }
      };
    });
  }

  request(method, params) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
      this.#send({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method, params) {
    this.#send({ jsonrpc: '2.0', method, ...(params !== undefined && { params }) });
  }

  close() {
    if (this.#ws?.readyState === WebSocket.OPEN) {
      this.#ws.send(JSON.stringify({ type: 'close', channel: CHANNEL }));
    }
    this.#ws?.close(1000);
  }

  #send(message) {
    this.#ws.send(JSON.stringify({ type: 'message', channel: CHANNEL, message }));
  }

  #onMessage(msg) {
    if (msg.id !== undefined && msg.method === undefined) {
      const p = this.#pending.get(msg.id);
      if (p === undefined) return;
      this.#pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error !== undefined) p.reject(Object.assign(new Error(msg.error.message), msg.error));
      else p.resolve(msg.result);
    } else if (msg.id !== undefined) {
      // A server request: the playground answers ping and declines the rest.
      this.handlers.event(`server request ${msg.method}`);
      const answer =
        msg.method === 'ping'
          ? { result: {} }
          : { error: { code: -32601, message: 'not supported by the dashboard playground' } };
      this.#send({ jsonrpc: '2.0', id: msg.id, ...answer });
    } else {
      this.handlers.event(describe(msg));
    }
  }
}

class RefusedUpgrade extends Error {
  constructor(code) {
    super(`the WebSocket was refused (close ${code})`);
  }
}

function describe(msg) {
  const p = msg.params ?? {};
  if (msg.method === 'notifications/progress') {
    const total = p.total !== undefined ? `/${p.total}` : '';
    return `progress ${p.progress}${total}${p.message ? ` ${p.message}` : ''}`;
  }
  if (msg.method === 'notifications/message') return `log ${p.level}: ${JSON.stringify(p.data)}`;
  return `${msg.method} ${JSON.stringify(p)}`;
}

/** Why an upgrade was refused: the same URL fetched without Upgrade answers the check's reason. */
async function refusalReason() {
  try {
    const url = wsUrl('/ws').replace(/^ws/, 'http');
    await apiJson(url);
    return 'refused (no reason given)';
  } catch (err) {
    return err instanceof HttpError ? `${err.reason}: ${err.message}` : String(err);
  }
}

export function setupPlayground(el) {
  let session;
  let progressToken = 0;
  const status = (t) => (el.status.textContent = t);
  const event = (t) => {
    const li = document.createElement('li');
    li.textContent = t;
    el.events.append(li);
    while (el.events.children.length > MAX_EVENTS) el.events.firstChild.remove();
    el.events.scrollTop = el.events.scrollHeight;
  };
  const reset = () => {
    session = undefined;
    el.open.disabled = false;
    el.close.disabled = true;
    el.tools.replaceChildren();
    el.form.hidden = true;
  };

  el.open.addEventListener('click', async () => {
    const service = el.service.value;
    if (service === '') return;
    el.open.disabled = true;
    el.events.replaceChildren();
    el.result.textContent = '';
    status(`opening ${service}…`);
    const s = new MuxSession({
      event,
      closed: (why) => {
        if (session !== s) return;
        status(`closed: ${why}`);
        reset();
      },
    });
    session = s;
    try {
      const id = await s.open(service);
      await s.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'mcpmux-dashboard', version: '0.1.0' },
      });
      s.notify('notifications/initialized');
      el.close.disabled = false;
      status(`session ${id} on ${service}`);
      el.status.dataset.session = id;
      await listTools(s);
    } catch (err) {
      const why = err instanceof RefusedUpgrade ? await refusalReason() : err.message;
      status(`could not open: ${why}`);
      if (session === s) s.close();
      reset();
    }
  });

  el.close.addEventListener('click', () => {
    session?.close();
    status('closed');
    reset();
  });

  async function listTools(s) {
    const tools = [];
    let cursor;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const r = await s.request('tools/list', cursor === undefined ? {} : { cursor });
      tools.push(...(r.tools ?? []));
      cursor = r.nextCursor;
      if (cursor === undefined) break;
    }
    el.tools.replaceChildren(
      ...tools.map((tool) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = tool.name;
        b.dataset.tool = tool.name;
        b.title = tool.description ?? '';
        b.addEventListener('click', () => {
          for (const x of el.tools.querySelectorAll('button')) x.classList.remove('selected');
          b.classList.add('selected');
          pick(tool);
        });
        li.append(b);
        return li;
      }),
    );
  }

  function pick(tool) {
    el.form.hidden = false;
    el.toolName.textContent = tool.name;
    el.toolDescription.textContent = tool.description ?? '';
    const read = buildForm(el.fields, tool.inputSchema);
    el.form.onsubmit = async (ev) => {
      ev.preventDefault();
      let args;
      try {
        args = read();
      } catch (err) {
        el.result.textContent = err.message;
        return;
      }
      const s = session;
      if (s === undefined) return;
      el.result.textContent = `calling ${tool.name}…`;
      const token = `pg-${++progressToken}`;
      try {
        const result = await s.request('tools/call', {
          name: tool.name,
          arguments: args,
          _meta: { progressToken: token },
        });
        el.result.textContent = JSON.stringify(result, null, 2);
        el.result.dataset.state = result.isError ? 'tool-error' : 'ok';
      } catch (err) {
        el.result.textContent = `error ${err.code ?? ''} ${err.message}`;
        el.result.dataset.state = 'error';
      }
    };
  }

  return {
    services(names) {
      const current = el.service.value;
      const same =
        names.length === el.service.options.length &&
        names.every((n, i) => el.service.options[i].value === n);
      if (same) return;
      el.service.replaceChildren(...names.map((n) => new Option(n, n)));
      if (names.includes(current)) el.service.value = current;
    },
  };
}
