// Small MCP-level helpers shared by MCPClient and the manager.

import { McpmuxError } from '../errors.js';
import type { ExitInfo } from '../sandbox/managed-child.js';

export const PROTOCOL_VERSION = '2025-11-25';

/** Upper bound on tools/list pages followed, so a server that loops its cursor cannot hang us. */
const MAX_TOOL_PAGES = 100;

export interface Tool {
  name: string;
  description?: string;
  inputSchema?: unknown;
  [key: string]: unknown;
}

/** The error every pending request gets when the process exits unexpectedly. */
export function exitError(info: ExitInfo): McpmuxError {
  const how = info.signal !== null ? `signal ${info.signal}` : `code ${String(info.code)}`;
  return new McpmuxError('upstream_exited', `the server process exited (${how})`, {
    exit_code: info.code,
    signal: info.signal,
    stderr_tail: info.stderrTail,
  });
}

export async function listAllTools(
  page: (params: { cursor?: string }) => Promise<unknown>,
): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_TOOL_PAGES; i++) {
    const result = (await page(cursor === undefined ? {} : { cursor })) as {
      tools?: unknown;
      nextCursor?: unknown;
    };
    if (Array.isArray(result.tools)) tools.push(...(result.tools as Tool[]));
    if (typeof result.nextCursor !== 'string' || result.nextCursor === '') return tools;
    cursor = result.nextCursor;
  }
  throw new McpmuxError(
    'upstream_protocol_error',
    `tools/list returned more than ${MAX_TOOL_PAGES} pages`,
  );
}
