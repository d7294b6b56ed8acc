// The root pino logger. info = lifecycle (connections, sessions, processes), debug = per request,
// trace = payloads. Secrets are redacted by path, and access_token and resume (a resume token) are cut out of logged URLs.

import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/types.js';
import { LogDestination } from './log-destination.js';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'auth_token',
  'auth_password',
  '*.auth_token',
  '*.auth_password',
  'config.server.auth_token',
  'config.server.auth_password',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  'password',
];

/** Removes credentials from a URL or path before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|resume)=)[^&#]*/gi, '$1[Redacted]');
}

export interface LoggerOptions {
  level: LogLevel;
  /** A file path, or '' / undefined for stdout. */
  file?: string;
  /** A stream to write to instead (tests capture logs this way; cli.ts passes a LogDestination). */
  stream?: NodeJS.WritableStream | DestinationStream;
}

/**
 * The relay's log output: stdout, or `file` (appended, its directory made). Never blocks the
 * process and is never flushed on exit by itself (see LogDestination); the caller flushes it
 * under a deadline before exiting.
 */
export function logDestination(file?: string): LogDestination {
  return new LogDestination(file !== undefined && file !== '' ? file : 1);
}

export function createLogger(options: LoggerOptions): Logger {
  const pinoOptions = {
    level: options.level,
    base: { name: 'mcpmux' },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
  };
  return pino(pinoOptions, options.stream ?? logDestination(options.file));
}

/** A logger that writes nothing (the default for library users who pass none). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
