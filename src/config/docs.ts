// PURE: renders docs/config.md from the schema (scripts/gen-config-docs.ts writes it, a unit test
// keeps it current). Edit the docs in src/config/schema.ts, not in the generated file.
import { FORMATS, LOG_LEVELS } from './formats.js';
import {
  configSchema,
  schemaLeaves,
  serviceSchema,
  type LeafSpec,
  type SchemaTree,
} from './schema.js';

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function typeOf(spec: LeafSpec): string {
  const base = spec.choices?.join(' | ') ?? FORMATS[spec.format].type;
  if (spec.min !== undefined && spec.max !== undefined) return `${base}, ${spec.min}–${spec.max}`;
  if (spec.min !== undefined) return `${base}, ≥ ${spec.min}`;
  if (spec.above !== undefined) return `${base}, > ${spec.above}`;
  if (spec.nonEmpty) return `${base}, non-empty`;
  return base;
}

function defaultOf(spec: LeafSpec): string {
  return spec.docDefault ?? `\`${JSON.stringify(spec.default)}\``;
}

function table(tree: SchemaTree, prefix: string, withEnv: boolean): string[] {
  const head = withEnv
    ? ['| key | type | default | env | description |', '|---|---|---|---|---|']
    : ['| key | type | default | description |', '|---|---|---|---|'];
  const rows = schemaLeaves(tree, prefix).map(([path, spec]) => {
    const doc = [spec.doc, spec.sensitive ? '**Sensitive**: never logged or shown.' : '']
      .filter(Boolean)
      .join(' ');
    const env = spec.env === undefined ? '—' : `\`${spec.env}\``;
    const cells = [`\`${path}\``, typeOf(spec), defaultOf(spec), ...(withEnv ? [env] : []), doc];
    return `| ${cells.map(cell).join(' | ')} |`;
  });
  return [...head, ...rows];
}

const INTRO = `# Configuration

<!-- Generated from src/config/schema.ts by scripts/gen-config-docs.ts; do not edit by hand.
     Regenerate with: node --import tsx scripts/gen-config-docs.ts -->

mcpmux reads one JSON file (\`mcpmux --config PATH\`, default \`config/default.json\`). Every key is
optional; \`mcpmux --check\` validates the file, prints the services it would serve and exits 0 or 1.
Units: seconds for timeouts and windows, bytes for \`*_bytes\`, MiB for \`*_mb\`.

## Precedence

Schema defaults < the config file < environment variables (\`MCPMUX_*\`, listed below) < command-line
flags (\`--host\`, \`--port\`, \`--log-level\`; \`--allow-origin\` adds to \`server.allowed_origins\`).

## Types and errors

Values are converted by the type of their key only: \`"8100"\` for \`server.port\` becomes the number 8100,
\`"true"\`/\`"false"\` (also yes/no, on/off, 1/0, any case) for a boolean key become booleans, and a string key
stays a string — an \`auth_password\` of \`"12345"\` is the string \`"12345"\`. Log levels are
case-insensitive (\`${LOG_LEVELS.join('`, `')}\`; Python's \`WARNING\` and \`CRITICAL\` are accepted too). A
list key set from the environment is comma-separated. A value of the wrong type stops the load with one
error naming the key path, e.g. \`services.todo.sandbox.limits.memory_mb must be an integer\`.

## \`\${VAR}\` substitution

Inside any string value, anywhere in the file, \`\${VAR}\` is replaced by the environment variable VAR and
\`\${VAR|default}\` by VAR or, when VAR is unset, by \`default\`. A string may hold several. A variable that
is set, even to the empty string, wins over the default; an unset variable without a default becomes
\`""\`. Keys are never substituted. Substitution happens before type conversion, so
\`"port": "\${MCP_PORT|8100}"\` yields the number 8100.

## Path resolution

Relative paths are resolved against the working directory of the process that loads the config (not
against the config file's directory): \`session.sandbox_dir\`, \`server.tls.cert\`, \`server.tls.key\`,
\`logging.file\` and \`services.<name>.sandbox.working_dir\` (when not empty); \`command[0]\` when it contains
a \`/\` (a bare name such as \`node\` is looked up on PATH); and any later \`command\` element that is a
relative path (not starting with \`-\`) naming a file or directory that exists relative to that
directory. So \`["node", "examples/servers/todo.mjs"]\` works even though the server process runs in its
own session directory.
`;

const SIGNALWIRE = `## SignalWire compatibility and ignored keys

A config file written for the SignalWire MCP gateway loads unchanged. Keys mcpmux does not know produce
a warning (\`unknown key session.cleanup_interval (ignored)\`), never an error. Typical ones:
\`session.cleanup_interval\` (sessions expire on their own timers), \`rate_limiting.default_limits\`,
\`tools_limit\`, \`call_limit\`, \`session_delete_limit\`, \`storage_uri\` (mcpmux has
\`rate_limiting.requests_per_minute\`), \`services.<name>.sandbox.note\` and \`allowed_paths\`, and a
\`security\` section. Differences on purpose: \`host\` defaults to 127.0.0.1, not 0.0.0.0, and another
address needs auth (the sample's \`admin\`/\`changeme\` counts; emptied, it refuses to start unless
\`server.allow_unauthenticated\` is true); on loopback the \`Host\` header must be a loopback name or in
\`server.allowed_hosts\`; \`allowed_origins: ["*"]\` with Basic auth is an error; string values
are never turned into numbers or booleans unless their key has that type; disabled services are listed
(and may omit \`command\`, with a warning) instead of being dropped; TLS comes from
\`server.tls.cert\`/\`key\`, not from \`./certs/server.pem\`.
`;

/** The whole of docs/config.md. */
export function renderConfigDocs(): string {
  const sections = Object.entries(configSchema).map(([name, tree]) =>
    [`### ${name}`, '', ...table(tree, `${name}.`, true)].join('\n'),
  );
  const services = [
    '### services',
    '',
    '`services` maps a service name (1–64 characters from `A-Z a-z 0-9 _ . -`) to an entry. Each entry',
    'is validated on its own; service keys have no environment variables (use `${VAR}` in the file).',
    '`command` is required unless the service is disabled.',
    '',
    ...table(serviceSchema, 'services.<name>.', false),
  ].join('\n');
  return [INTRO, '## Keys', '', ...sections.map((s) => `${s}\n`), `${services}\n`, SIGNALWIRE]
    .join('\n')
    .replace(/\n+$/, '\n');
}
