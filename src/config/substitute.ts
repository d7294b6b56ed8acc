// PURE: `${VAR}` / `${VAR|default}` substitution inside every string value of a parsed JSON
// document (docs/config.md; same syntax as the SignalWire gateway's ConfigLoader). Only strings change:
// no type coercion happens here — the schema converts values by each key's declared type.

/** VAR: any characters but `}` and `|`; default: any characters but `}`. */
const PLACEHOLDER = /\$\{([^}|]*)(?:\|([^}]*))?\}/g;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Replaces every placeholder in `text`. A set variable wins over the default, even when it is
 * set to ''; an unset variable without a default becomes ''.
 */
export function substituteString(text: string, env: Env): string {
  if (!text.includes('${')) return text;
  return text.replace(PLACEHOLDER, (_match, name: string, fallback: string | undefined) => {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return value ?? fallback ?? '';
  });
}

/**
 * Returns a copy of `value` with placeholders replaced in every string it contains, at any depth.
 * Object keys are left as they are; numbers, booleans and null pass through unchanged.
 */
export function substituteVars(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return substituteString(value, env);
  if (Array.isArray(value)) return value.map((item) => substituteVars(item, env));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a "__proto__" key stays a plain (unknown) key.
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteVars(item, env)]),
    );
  }
  return value;
}
