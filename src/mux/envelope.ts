// PURE: the mcpmux.v1 envelope of /ws (SPEC §5.2). One JSON.parse per inbound frame; outbound
// message envelopes are built by string concatenation around the server's line, never re-serialised.

export const MUX_SUBPROTOCOL = 'mcpmux.v1';

export type ClientEnvelope =
  | { type: 'open'; channel: string; service: string; session?: string }
  | { type: 'message'; channel: string; message: unknown }
  | { type: 'close'; channel: string };

export interface EnvelopeError {
  kind: 'bad_envelope';
  detail: string;
  channel?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALLOWED: Record<string, readonly string[]> = {
  open: ['type', 'channel', 'service', 'session'],
  message: ['type', 'channel', 'message'],
  close: ['type', 'channel'],
};

export function isEnvelopeError(x: ClientEnvelope | EnvelopeError): x is EnvelopeError {
  return (x as EnvelopeError).kind === 'bad_envelope';
}

function bad(detail: string, channel?: unknown): EnvelopeError {
  return typeof channel === 'string' && channel.length > 0 && channel.length <= 128
    ? { kind: 'bad_envelope', detail, channel }
    : { kind: 'bad_envelope', detail };
}

export function parseEnvelope(text: string): ClientEnvelope | EnvelopeError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad('an envelope must be a JSON object');
  }
  const env = value as Record<string, unknown>;
  const { type, channel } = env;
  const allowed = typeof type === 'string' ? ALLOWED[type] : undefined;
  if (allowed === undefined) return bad(`unknown envelope type ${JSON.stringify(type)}`, channel);
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > 128) {
    return bad('channel must be a string of 1-128 characters');
  }
  for (const key in env) {
    if (!allowed.includes(key)) return bad(`unexpected member "${key}"`, channel);
  }
  if (type === 'open') {
    if (typeof env.service !== 'string' || env.service === '') {
      return bad('open needs a service name', channel);
    }
    if (env.session !== undefined && (typeof env.session !== 'string' || !UUID.test(env.session))) {
      return bad('session must be a session uuid', channel);
    }
  } else if (type === 'message' && !('message' in env)) {
    return bad('message envelope needs a message', channel);
  }
  return env as ClientEnvelope;
}

export function openedEnvelope(channel: string, session: string, resumed: boolean): string {
  return JSON.stringify({ type: 'opened', channel, session, resumed });
}

/** The text before the JSON-RPC line in a relay→client message envelope. */
export function messagePrefix(channel: string): string {
  return `{"type":"message","channel":${JSON.stringify(channel)},"message":`;
}

export function messageEnvelope(channel: string, line: string): string {
  return messagePrefix(channel) + line + '}';
}

export function closedEnvelope(channel: string, reason: string, message: string): string {
  return JSON.stringify({ type: 'closed', channel, reason, message });
}

export function errorEnvelope(
  reason: string,
  message: string,
  channel?: string,
  data?: Record<string, unknown>,
): string {
  return JSON.stringify({
    type: 'error',
    ...(channel !== undefined && { channel }),
    reason,
    message,
    ...(data !== undefined && { data }),
  });
}
