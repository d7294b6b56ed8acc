// JSON-RPC messages the relay tests send and read, in one place.

/** A tools/call request (with an optional _meta, e.g. a progressToken). */
export const toolCall = (
  id: number | string,
  name: string,
  args: Record<string, unknown> = {},
  meta?: object,
) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...(meta !== undefined && { _meta: meta }) },
});

/** The text of the first content item of a tools/call response message. */
export const resultText = (m: any): string => m.result.content[0].text;
