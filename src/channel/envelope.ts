// The mcpmux.v1 envelope codec (docs/protocol.md §2). PURE: no I/O, no clock, no node: imports.
// Inbound: one JSON.parse per frame and a strict shape check; the JSON-RPC message inside a
// `message` envelope is left as a parsed value (the channel validates it) together with its raw
// text, located in the frame (member-span.ts), which is what reaches the server's stdin.
// Outbound: envelopes are built by string concatenation around already-serialised parts, so a
// JSON-RPC line from a server is wrapped byte for byte, never parsed or re-serialised.

import { memberSpan, oneLine } from './member-span.js';

/** The WebSocket subprotocol of the multiplexed endpoint `/ws`. */
export const MUX_SUBPROTOCOL = 'mcpmux.v1';

/** A client closing its WebSocket with this code keeps its sessions for a resume (both endpoints). */
export const DETACH_CLOSE_CODE = 4100;

/**
 * When a resumed session's buffered output is delivered (`replay` of `open`, `?replay=` on
 * /mcp): `now`, right after the re-attach (the same client continuing); `hold` (the default),
 * at the client's first message, which drops it if it is an `initialize` (a new client).
 */
export type ResumeReplay = 'now' | 'hold';

export function isResumeReplay(value: unknown): value is ResumeReplay {
  return value === 'now' || value === 'hold';
}

/** Longest channel name, in UTF-16 code units (JavaScript string length). */
export const MAX_CHANNEL_LENGTH = 128;

/** An envelope a client sends to the relay. */
export type ClientEnvelope =
  | { type: 'open'; channel: string; service: string; resume?: string; replay?: ResumeReplay }
  | { type: 'message'; channel: string; message: unknown; text: string }
  | { type: 'close'; channel: string };

/** An envelope the relay sends to a client. */
export type RelayEnvelope =
  | {
      type: 'opened';
      channel: string;
      session: string;
      resumed: boolean;
      resume_token: string;
    }
  | { type: 'message'; channel: string; message: unknown }
  | { type: 'closed'; channel: string; reason: string; message: string }
  | {
      type: 'error';
      channel?: string;
      reason: string;
      message: string;
      data?: Record<string, unknown>;
    };

/** Why a frame is not a valid client envelope; `channel` when the frame named a valid one. */
export interface EnvelopeError {
  kind: 'bad_envelope';
  detail: string;
  channel?: string;
}

const OPEN_MEMBERS: ReadonlySet<string> = new Set([
  'type',
  'channel',
  'service',
  'resume',
  'replay',
]);
const MESSAGE_MEMBERS: ReadonlySet<string> = new Set(['type', 'channel', 'message']);
const CLOSE_MEMBERS: ReadonlySet<string> = new Set(['type', 'channel']);

/** Longest resume token accepted (a node_id of up to 128 characters, a dot, the secret). */
const MAX_RESUME_LENGTH = 256;

/** True for a valid channel name: a string of 1–128 UTF-16 code units. */
export function isChannelName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CHANNEL_LENGTH;
}

function bad(detail: string, channel: string | undefined): EnvelopeError {
  return channel === undefined
    ? { kind: 'bad_envelope', detail }
    : { kind: 'bad_envelope', detail, channel };
}

/** The first member of `env` not in `allowed`, if any. */
function extraMember(
  env: Record<string, unknown>,
  allowed: ReadonlySet<string>,
): string | undefined {
  for (const key in env) {
    if (!allowed.has(key)) return key;
  }
  return undefined;
}

/** A short, safe rendering of an untrusted value for an error detail. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : typeof value;
  return text.length <= 40 ? text : text.slice(0, 37) + '...';
}

/**
 * Parses one `/ws` text frame into a client envelope, or says why it is not one.
 * Strict: the type must be `open`, `message` or `close`; `channel` a string of 1–128 code units;
 * `service` a non-empty string (open); `resume` a resume token if present (open; a session id
 * cannot resume, and the old `session` member is refused); `replay` `now` or `hold` if present
 * (open; it matters only with `resume`); `message` present (message, any JSON
 * value; `text` is its raw text, on one line); no other members.
 */
export function parseEnvelope(text: string): ClientEnvelope | EnvelopeError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return bad(`not JSON: ${(err as Error).message}`, undefined);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad('an envelope must be a JSON object', undefined);
  }
  const env = value as Record<string, unknown>;
  const channel = isChannelName(env.channel) ? env.channel : undefined;
  const type = env.type;
  let allowed: ReadonlySet<string>;
  if (type === 'message') allowed = MESSAGE_MEMBERS;
  else if (type === 'open') allowed = OPEN_MEMBERS;
  else if (type === 'close') allowed = CLOSE_MEMBERS;
  else if (type === undefined) return bad('type is missing', channel);
  else return bad(`unknown envelope type ${show(type)}`, channel);

  if (channel === undefined) {
    if (!('channel' in env)) return bad('channel is missing', undefined);
    if (typeof env.channel !== 'string') return bad('channel must be a string', undefined);
    return bad(`channel must be 1-${MAX_CHANNEL_LENGTH} characters long`, undefined);
  }
  if (type === 'open' && 'session' in env) {
    return bad('a session id cannot resume: pass the resume token as "resume"', channel);
  }
  const extra = extraMember(env, allowed);
  if (extra !== undefined) return bad(`unexpected member ${show(extra)} in ${type}`, channel);

  if (type === 'message') {
    if (!('message' in env)) return bad('message is missing', channel);
    const span = memberSpan(text, 'message')!;
    return { type, channel, message: env.message, text: oneLine(text.slice(span[0], span[1])) };
  }
  if (type === 'close') return { type, channel };

  const service = env.service;
  if (typeof service !== 'string' || service === '') {
    return bad('service must be a non-empty string', channel);
  }
  const open: Extract<ClientEnvelope, { type: 'open' }> = { type, channel, service };
  if ('replay' in env) {
    if (!isResumeReplay(env.replay)) return bad('replay must be "now" or "hold"', channel);
    open.replay = env.replay;
  }
  if (!('resume' in env)) return open;
  const resume = env.resume;
  if (typeof resume !== 'string' || resume === '' || resume.length > MAX_RESUME_LENGTH) {
    return bad(`resume must be a resume token (1-${MAX_RESUME_LENGTH} characters)`, channel);
  }
  open.resume = resume;
  return open;
}

export function isEnvelopeError(x: ClientEnvelope | EnvelopeError): x is EnvelopeError {
  return (x as { kind?: unknown }).kind === 'bad_envelope';
}

/** `{"type":"opened","channel":…,"session":…,"resumed":…,"resume_token":…}` */
export function openedEnvelope(
  channel: string,
  session: string,
  resumed: boolean,
  resumeToken: string,
): string {
  return `{"type":"opened","channel":${JSON.stringify(channel)},"session":${JSON.stringify(session)},"resumed":${resumed ? 'true' : 'false'},"resume_token":${JSON.stringify(resumeToken)}}`;
}

/**
 * The constant start of every message envelope for `channel`, up to and including `"message":`.
 * A relay computes it once per channel and sends `prefix + line + '}'` for each JSON-RPC line.
 */
export function messagePrefix(channel: string): string {
  return `{"type":"message","channel":${JSON.stringify(channel)},"message":`;
}

/** A message envelope around one already-serialised JSON-RPC `line`, kept byte for byte. */
export function messageEnvelope(channel: string, line: string): string {
  return messagePrefix(channel) + line + '}';
}

/** `{"type":"closed","channel":…,"reason":…,"message":…}` */
export function closedEnvelope(channel: string, reason: string, message: string): string {
  return JSON.stringify({ type: 'closed', channel, reason, message });
}

/** `{"type":"error","channel"?:…,"reason":…,"message":…,"data"?:{…}}` */
export function errorEnvelope(
  reason: string,
  message: string,
  channel?: string,
  data?: Record<string, unknown>,
): string {
  const env: Record<string, unknown> = { type: 'error' };
  if (channel !== undefined) env.channel = channel;
  env.reason = reason;
  env.message = message;
  if (data !== undefined) env.data = data;
  return JSON.stringify(env);
}
