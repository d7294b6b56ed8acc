// A form generated from a tool's input JSON Schema: strings, numbers, integers, booleans and
// enums get their own inputs; anything else (objects, arrays, unions) a JSON textarea. read()
// turns the form back into the call's arguments, or throws a message naming the bad field.

function typeOf(schema) {
  if (Array.isArray(schema.enum)) return 'enum';
  const t = Array.isArray(schema.type)
    ? schema.type.filter((x) => x !== 'null').length === 1
      ? schema.type.find((x) => x !== 'null')
      : 'json'
    : schema.type;
  return ['string', 'number', 'integer', 'boolean'].includes(t) ? t : 'json';
}

function input(name, schema, kind) {
  if (kind === 'enum') {
    const select = document.createElement('select');
    select.append(new Option('', ''));
    for (const v of schema.enum) select.append(new Option(String(v), JSON.stringify(v)));
    if (schema.default !== undefined) select.value = JSON.stringify(schema.default);
    return select;
  }
  if (kind === 'json') {
    const area = document.createElement('textarea');
    area.placeholder = 'JSON';
    if (schema.default !== undefined) area.value = JSON.stringify(schema.default, null, 2);
    return area;
  }
  const el = document.createElement('input');
  el.type = kind === 'boolean' ? 'checkbox' : kind === 'string' ? 'text' : 'number';
  if (kind === 'integer') el.step = '1';
  if (kind === 'number') el.step = 'any';
  if (kind === 'boolean') el.checked = schema.default === true;
  else if (schema.default !== undefined) el.value = String(schema.default);
  return el;
}

/** Fills `container` with one field per property; returns read() → the arguments object. */
export function buildForm(container, inputSchema) {
  container.replaceChildren();
  const schema = inputSchema ?? { type: 'object' };
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const fields = [];
  const names = Object.keys(props);
  if (names.length === 0 && schema.additionalProperties !== undefined) {
    names.push('');
  }
  for (const name of names) {
    const sub = name === '' ? { type: 'object' } : (props[name] ?? {});
    const kind = name === '' ? 'json' : typeOf(sub);
    const label = document.createElement('label');
    label.className = 'field';
    const title = document.createElement('span');
    title.textContent = name === '' ? 'arguments (JSON object)' : name;
    if (required.has(name)) title.textContent += ' *';
    if (sub.description) title.title = sub.description;
    const el = input(name, sub, kind);
    el.name = name === '' ? '__arguments' : name;
    el.dataset.kind = kind;
    label.append(title, el);
    container.append(label);
    fields.push({ name, kind, el, required: required.has(name) });
  }
  return () => readForm(fields);
}

function readForm(fields) {
  const args = {};
  for (const { name, kind, el, required } of fields) {
    if (kind === 'boolean') {
      args[name] = el.checked;
      continue;
    }
    const raw = el.value;
    if (raw === '') {
      if (required) throw new Error(`${name || 'arguments'} is required`);
      continue;
    }
    let value;
    if (kind === 'string') value = raw;
    else if (kind === 'enum') value = JSON.parse(raw);
    else if (kind === 'json') {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new Error(`${name || 'arguments'}: not valid JSON`);
      }
    } else {
      value = Number(raw);
      if (!Number.isFinite(value)) throw new Error(`${name}: not a number`);
      if (kind === 'integer' && !Number.isInteger(value))
        throw new Error(`${name}: not an integer`);
    }
    if (name === '') Object.assign(args, value);
    else args[name] = value;
  }
  return args;
}
