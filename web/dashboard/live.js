// Renders a snapshot (GET /events) into the services and sessions tables. Rows are keyed by
// service name and session id, so a session appears and ends in place, without a reload.

const text = (value) => document.createTextNode(String(value));

function cell(row, value, className) {
  const td = document.createElement('td');
  if (className !== undefined) td.className = className;
  if (value instanceof Node) td.append(value);
  else td.append(text(value));
  row.append(td);
}

function pill(state) {
  const span = document.createElement('span');
  span.className = 'pill';
  span.dataset.state = state;
  span.textContent = state;
  return span;
}

export function duration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

const ms = (value) => (value === null ? '–' : `${value} ms`);

function errors(map) {
  const parts = Object.entries(map).map(([reason, n]) => `${reason} ${n}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

/** Replaces a table body's rows, keeping rows whose key is unchanged (no flicker, no reload). */
function renderRows(tbody, items, key, fill) {
  const old = new Map([...tbody.children].map((tr) => [tr.dataset.key, tr]));
  const rows = items.map((item) => {
    const tr = old.get(key(item)) ?? document.createElement('tr');
    tr.dataset.key = key(item);
    tr.replaceChildren();
    fill(tr, item);
    return tr;
  });
  tbody.replaceChildren(...rows);
}

export function renderServices(tbody, services) {
  renderRows(
    tbody,
    services,
    (s) => s.name,
    (tr, s) => {
      tr.dataset.service = s.name;
      const name = document.createElement('span');
      name.textContent = s.name;
      name.title = s.description;
      cell(tr, name);
      cell(tr, pill(s.state));
      cell(tr, s.spares > 0 ? `${s.sessions} (+${s.spares} spare)` : s.sessions, 'num sessions');
      const q = s.queue;
      cell(
        tr,
        `${q.running}/${q.concurrency} running, ${q.waiting}/${q.limit} waiting`,
        'num queue',
      );
      cell(tr, s.traffic.requests_per_s, 'num rps');
      cell(tr, ms(s.traffic.p50_ms), 'num');
      cell(tr, ms(s.traffic.p99_ms), 'num');
      cell(tr, errors(s.traffic.errors), 'errors');
    },
  );
}

export function renderSessions(tbody, sessions) {
  renderRows(
    tbody,
    sessions,
    (s) => s.id,
    (tr, s) => {
      tr.dataset.session = s.id;
      const id = document.createElement('code');
      id.textContent = s.id.slice(0, 8);
      id.title = s.id;
      cell(tr, id);
      cell(tr, s.service);
      cell(tr, pill(s.state));
      cell(tr, duration(s.age_s), 'num');
      cell(tr, `${duration(s.idle_s)} ago`, 'num');
      cell(tr, s.inflight, 'num inflight');
    },
  );
}
