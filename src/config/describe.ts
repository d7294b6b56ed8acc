// PURE: the human-readable service listing `mcpmux --check` prints. It shows env variable names
// but never their values (they are often secrets).
import type { Config, SandboxConfig, ServiceConfig } from './types.js';

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}

function describeSandbox(sandbox: SandboxConfig): string {
  if (!sandbox.enabled) return 'off (own process group only)';
  const parts = ['on'];
  if (sandbox.resource_limits) {
    const l = sandbox.limits;
    const fmt = (value: number, text: string): string => (value === 0 ? `${text} unlimited` : text);
    parts.push(
      [
        fmt(l.cpu_seconds, `cpu ${l.cpu_seconds} s`),
        fmt(l.memory_mb, `memory ${l.memory_mb} MiB`),
        fmt(l.max_processes, `${l.max_processes} processes`),
        fmt(l.file_size_mb, `file size ${l.file_size_mb} MiB`),
        fmt(l.open_files, `${l.open_files} open files`),
      ].join(', '),
    );
  } else parts.push('no resource limits');
  parts.push(sandbox.restricted_env ? 'restricted env' : 'inherited env');
  if (sandbox.drop_privileges) parts.push('drops privileges when root');
  return parts.join('; ');
}

function describeService(name: string, service: ServiceConfig): string[] {
  const state = service.enabled ? 'enabled' : 'disabled';
  const lines = [`${name} [${state}]${service.description ? ` ${service.description}` : ''}`];
  const command = service.command.length > 0 ? service.command.map(quoteArg).join(' ') : '(none)';
  lines.push(`  command: ${command}`);
  const { working_dir: dir, enabled } = service.sandbox;
  const cwd = dir || (enabled ? 'session directory' : "the relay's working directory");
  lines.push(`  sandbox: ${describeSandbox(service.sandbox)}; working dir: ${cwd}`);
  lines.push(
    `  requests: concurrency ${service.concurrency}, queue ${service.queue_limit}, ` +
      `timeout ${service.request_timeout} s; idle timeout ${service.idle_timeout} s`,
  );
  const envNames = Object.keys(service.env);
  if (envNames.length > 0) lines.push(`  env: ${envNames.join(', ')}`);
  return lines;
}

/** A multi-line listing of every configured service: name, state, command, sandbox, limits. */
export function describeServices(config: Config): string {
  const entries = Object.entries(config.services);
  const enabled = entries.filter(([, s]) => s.enabled).length;
  const header = `${entries.length} service${entries.length === 1 ? '' : 's'} (${enabled} enabled):`;
  if (entries.length === 0) return 'no services configured';
  return [header, ...entries.flatMap(([name, s]) => describeService(name, s))].join('\n');
}
