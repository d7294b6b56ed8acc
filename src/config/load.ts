// Loads mcpmux's configuration (docs/config.md): JSON file → ${VAR} substitution → convict (defaults <
// file < MCPMUX_* environment < command-line arguments, each value converted by its key's type) →
// validation naming the key path → relative paths resolved → one deeply frozen `Config`.
// Keys we do not know (SignalWire's cleanup_interval, default_limits, note, …) are warnings.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import convict from 'convict';
import { findGatewayCert } from './gateway-cert.js';
import { parseJson } from './json-syntax.js';
// formats.js also registers our value formats with convict (a side effect of importing it).
import { checkLeaf } from './formats.js';
import {
  SERVICE_NAME_PATTERN,
  configSchema,
  isLeaf,
  schemaLeaves,
  serviceSchema,
  type SchemaTree,
} from './schema.js';
import { serverProblems } from './security.js';
import { substituteVars, type Env } from './substitute.js';
import type { Config } from './types.js';

export { describeServices } from './describe.js';

export interface ConfigArgs {
  readonly host?: string;
  readonly port?: number | string;
  readonly logLevel?: string;
  /** --allow-origin (repeatable): added to server.allowed_origins. */
  readonly allowOrigins?: readonly string[];
}

export interface LoadConfigOptions {
  /** JSON config file, relative to `cwd`. Without one: schema defaults < env < args. */
  readonly file?: string;
  /** Environment for MCPMUX_* keys and ${VAR} substitution; default process.env. */
  readonly env?: Env;
  readonly args?: ConfigArgs;
  /** Base for relative paths; default process.cwd(). */
  readonly cwd?: string;
}

export interface ConfigProblem {
  /** Dotted key path, e.g. services.todo.sandbox.limits.memory_mb. */
  readonly path: string;
  readonly message: string;
}

/** Invalid configuration. `path` names the (first) offending key when known. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly path: string | undefined;
  /** The config file involved, when there is one. */
  readonly file: string | undefined;
  /** Every problem found, in order; the message shows them one per line. */
  readonly problems: readonly ConfigProblem[];

  constructor(
    message: string,
    options: {
      path?: string | undefined;
      file?: string | undefined;
      problems?: readonly ConfigProblem[];
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.path = options.path;
    this.file = options.file;
    this.problems =
      options.problems ?? (options.path === undefined ? [] : [{ path: options.path, message }]);
  }
}

const ARG_PATHS = { host: 'server.host', port: 'server.port', logLevel: 'logging.level' } as const;
const ARG_FLAGS = { host: '--host', port: '--port', logLevel: '--log-level' } as const;

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects what one load found wrong or ignored. */
class Findings {
  readonly warnings: string[] = [];
  readonly problems: ConfigProblem[] = [];

  problem(path: string, expectation: string, detail = ''): void {
    this.problems.push({ path, message: `${path} must be ${expectation}${detail}` });
  }

  throwIfAny(file: string | undefined): void {
    const first = this.problems[0];
    if (first === undefined) return;
    const message = this.problems.map((p) => p.message).join('\n');
    throw new ConfigError(message, {
      path: first.path,
      problems: this.problems,
      file,
    });
  }
}

export function loadConfig(options: LoadConfigOptions = {}): {
  config: Config;
  warnings: string[];
  /** What the start-up log should say about the loaded config (a discovered certs/server.pem). */
  notices: string[];
} {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = options.file === undefined ? undefined : resolve(cwd, options.file);
  const raw = file === undefined ? {} : substituteVars(readConfigFile(file), env);
  if (!isRecord(raw)) {
    throw new ConfigError(`config file ${file ?? ''} must contain a JSON object`, { file });
  }

  const found = new Findings();
  const { services: rawServices, ...rest } = raw;
  const top = loadSection(configSchema, rest, '', env, found);
  const fromArgs = new Map<string, string>();
  for (const key of ['host', 'port', 'logLevel'] as const) {
    const value = options.args?.[key];
    if (value === undefined) continue;
    const path: string = ARG_PATHS[key];
    top.set(path, value);
    fromArgs.set(ARG_PATHS[key], ARG_FLAGS[key]);
  }
  const extraOrigins = options.args?.allowOrigins ?? [];
  if (extraOrigins.length > 0) {
    const path: string = 'server.allowed_origins';
    const listed: unknown = top.get(path);
    const current = Array.isArray(listed) ? (listed as unknown[]) : [];
    top.set(path, [...new Set([...current, ...extraOrigins])]);
  }
  const props = top.getProperties();
  checkSection(configSchema, props, '', found, (path, envName) => {
    const flag = fromArgs.get(path);
    if (flag !== undefined) return flag;
    return envName !== undefined && env[envName] !== undefined ? envName : undefined;
  });
  found.problems.push(...serverProblems(props['server'] as Json));
  resolvePaths(configSchema, props, cwd);
  const notices = useGatewayCert(
    props,
    [cwd, ...(file === undefined ? [] : [dirname(file)])],
    found,
  );

  const session = props['session'] as { default_timeout: number };
  props['services'] = loadServices(rawServices, session.default_timeout, cwd, found);
  found.throwIfAny(file);
  return { config: deepFreeze(props) as unknown as Config, warnings: found.warnings, notices };
}

/** No TLS configured: a certs/server.pem (SignalWire's convention) serves HTTPS. */
function useGatewayCert(props: Json, dirs: string[], found: Findings): string[] {
  const tls = getIn(props, 'server.tls') as { cert: string; key: string };
  if (tls.cert !== '' || tls.key !== '') return [];
  const pem = findGatewayCert(dirs);
  if (pem === undefined) return [];
  if ('problem' in pem) {
    found.problems.push({ path: 'server.tls', message: `server.tls: ${pem.path} ${pem.problem}` });
    return [];
  }
  tls.cert = pem.path;
  tls.key = pem.path;
  return [
    `serving HTTPS with ${pem.path} (certificate and key in one PEM, as the SignalWire gateway)`,
  ];
}

function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : `unreadable (${code ?? String(err)})`;
    throw new ConfigError(`config file ${file} ${why}`, { file, cause: err });
  }
  const parsed = parseJson(text);
  if (parsed.ok) return parsed.value;
  const { line, column, offset, reason } = parsed.issue;
  throw new ConfigError(
    `config file ${file} is not valid JSON: ${reason} at line ${line}, column ${column} (position ${offset})`,
    { file },
  );
}

/**
 * One convict instance for `tree`: defaults, then the known keys of `data` (unknown keys become
 * warnings), then the environment again so that it wins over the file.
 */
function loadSection(
  tree: SchemaTree,
  data: Json,
  prefix: string,
  env: Env,
  found: Findings,
): convict.Config<Json> {
  const known = new Map<string, unknown>();
  const collect = (node: SchemaTree, value: Json, at: string): void => {
    for (const [key, item] of Object.entries(value)) {
      const child = Object.hasOwn(node, key) ? node[key] : undefined;
      if (child === undefined) found.warnings.push(`unknown key ${prefix}${at}${key} (ignored)`);
      else if (isLeaf(child)) known.set(at + key, item);
      else if (isRecord(item)) collect(child, item, `${at}${key}.`);
      else found.problem(`${prefix}${at}${key}`, 'an object');
    }
  };
  collect(tree, data, '');
  const config = convict<Json>(tree, { env: { ...env }, args: [] });
  for (const [path, value] of known) config.set(path, value);
  return config.load({});
}

/** Validates every leaf; `sourceOf` names where a value came from when it was not the file. */
function checkSection(
  tree: SchemaTree,
  props: Json,
  prefix: string,
  found: Findings,
  sourceOf: (path: string, envName: string | undefined) => string | undefined = () => undefined,
  skip: ReadonlySet<string> = new Set(),
): void {
  for (const [path, spec] of schemaLeaves(tree)) {
    if (skip.has(path)) continue;
    const value = getIn(props, path);
    const expectation = checkLeaf(spec, value);
    if (expectation === undefined) continue;
    const source = sourceOf(path, spec.env);
    const shown = spec.sensitive ? undefined : preview(value);
    const parts = [shown && `got ${shown}`, source && `from ${source}`].filter(Boolean);
    found.problem(prefix + path, expectation, parts.length > 0 ? ` (${parts.join(' ')})` : '');
  }
}

function loadServices(raw: unknown, defaultTimeout: number, cwd: string, found: Findings): Json {
  const services: Json = {};
  if (raw === undefined) return services;
  if (!isRecord(raw)) {
    found.problem('services', 'an object mapping service names to service entries');
    return services;
  }
  for (const [name, entry] of Object.entries(raw)) {
    const at = `services.${name}`;
    if (!SERVICE_NAME_PATTERN.test(name)) {
      found.problems.push({
        path: at,
        message: `service name ${JSON.stringify(name)} must be 1-64 characters from A-Z a-z 0-9 _ . -`,
      });
      continue;
    }
    if (!isRecord(entry)) {
      found.problem(at, 'an object');
      continue;
    }
    const props = loadSection(serviceSchema, entry, `${at}.`, {}, found).getProperties();
    const skip = new Set<string>();
    if (!Object.hasOwn(entry, 'command')) {
      skip.add('command');
      if (props['enabled'] === false)
        found.warnings.push(`${at}.command is missing (service disabled)`);
      else found.problem(`${at}.command`, 'a non-empty array of non-empty strings', ' (missing)');
    }
    checkSection(serviceSchema, props, `${at}.`, found, undefined, skip);
    props['idle_timeout'] ??= defaultTimeout;
    resolvePaths(serviceSchema, props, cwd);
    if (Array.isArray(props['command'])) props['command'] = resolveCommand(props['command'], cwd);
    services[name] = props;
  }
  return services;
}

/** Keys marked isPath: a non-empty relative path is made absolute against cwd. */
function resolvePaths(tree: SchemaTree, props: Json, cwd: string): void {
  for (const [path, spec] of schemaLeaves(tree)) {
    const value = getIn(props, path);
    if (spec.isPath && typeof value === 'string' && value !== '')
      setIn(props, path, resolve(cwd, value));
  }
}

/**
 * argv[0] containing a '/' and not absolute is resolved against cwd (a bare name is looked up on
 * PATH). A later element is resolved when it is a relative path (not a -flag) naming a file or
 * directory that exists relative to cwd, since the process itself runs in its session directory.
 */
export function resolveCommand(command: readonly unknown[], cwd: string): unknown[] {
  return command.map((arg, index) => {
    if (typeof arg !== 'string' || arg === '' || isAbsolute(arg)) return arg;
    if (index === 0) return arg.includes('/') ? resolve(cwd, arg) : arg;
    if (arg.startsWith('-')) return arg;
    const candidate = resolve(cwd, arg);
    return existsSync(candidate) ? candidate : arg;
  });
}

function getIn(obj: Json, path: string): unknown {
  let node: unknown = obj;
  for (const key of path.split('.')) node = isRecord(node) ? node[key] : undefined;
  return node;
}

function setIn(obj: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let node = obj;
  for (const key of keys) node = node[key] as Json;
  node[last] = value;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
