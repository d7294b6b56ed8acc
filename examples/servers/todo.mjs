#!/usr/bin/env node
// A dependency-free, stateful stdio MCP server: a todo list.
//
// Newline-delimited JSON-RPC 2.0 on stdin/stdout; logging goes to stderr only (one start banner, plus one
// line per message when TODO_DEBUG=1). The tool names and arguments mirror SignalWire's
// mcp_gateway/test/todo_mcp.py so the same curl flow works against mcpmux. State lives in memory for the
// lifetime of the process (one process per mcpmux session).
//
//   echo '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | node examples/servers/todo.mjs

import { writeSync } from 'node:fs';

const SERVER_INFO = { name: 'mcpmux-todo', version: '1.0.0' };
const SUPPORTED_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
const LATEST_VERSION = '2025-11-25';
const PRIORITIES = ['low', 'medium', 'high'];
const STATUSES = ['all', 'pending', 'completed'];
const DEBUG = process.env.TODO_DEBUG === '1';

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

/** @typedef {{ id: number, text: string, priority: string, completed: boolean }} Todo */

/** @type {Map<number, Todo>} */
const todos = new Map();
let nextTodoId = 1;

// ---------------------------------------------------------------------------------------------------------
// Output

function log(line) {
  try {
    writeSync(2, `[todo] ${line}\n`);
  } catch {
    // stderr gone or full and non-blocking: logging is best effort
  }
}

let stdoutBroken = false;
process.stdout.on('error', () => {
  // The reader went away (EPIPE): nobody can hear us any more.
  stdoutBroken = true;
  process.exit(0);
});

function send(message) {
  if (stdoutBroken) return;
  process.stdout.write(JSON.stringify(message) + '\n');
}

function reply(id, result) {
  send({ jsonrpc: '2.0', id, result });
}

function replyError(id, code, message, data) {
  const error = data === undefined ? { code, message } : { code, message, data };
  // An id that could not be read is omitted (MCP clients reject `"id": null`).
  send(id === undefined ? { jsonrpc: '2.0', error } : { jsonrpc: '2.0', id, error });
}

// ---------------------------------------------------------------------------------------------------------
// Tools

const TOOLS = [
  {
    name: 'add_todo',
    description: 'Add a new item to the todo list.',
    inputSchema: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, description: 'What needs to be done' },
        priority: {
          type: 'string',
          enum: PRIORITIES,
          default: 'medium',
          description: 'Priority of the item (default: medium)',
        },
      },
      required: ['text'],
      additionalProperties: false,
    },
  },
  {
    name: 'list_todos',
    description: 'List the todo items, optionally filtered by status.',
    inputSchema: {
      type: 'object',
      properties: {
        status: {
          type: 'string',
          enum: STATUSES,
          default: 'all',
          description: 'Which items to list (default: all)',
        },
      },
      additionalProperties: false,
    },
  },
  {
    name: 'complete_todo',
    description: 'Mark a todo item as completed.',
    inputSchema: {
      type: 'object',
      properties: {
        id: { type: 'integer', minimum: 1, description: 'The id of the item to complete' },
      },
      required: ['id'],
      additionalProperties: false,
    },
  },
  {
    name: 'delete_todo',
    description: 'Delete a todo item.',
    inputSchema: {
      type: 'object',
      properties: {
        id: { type: 'integer', minimum: 1, description: 'The id of the item to delete' },
      },
      required: ['id'],
      additionalProperties: false,
    },
  },
  {
    name: 'clear_todos',
    description: 'Delete every todo item.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  },
];

function text(value, structuredContent) {
  const result = { content: [{ type: 'text', text: value }] };
  if (structuredContent !== undefined) result.structuredContent = structuredContent;
  return result;
}

function toolError(message) {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function copy(todo) {
  return { id: todo.id, text: todo.text, priority: todo.priority, completed: todo.completed };
}

function describe(todo) {
  return `${todo.id}. [${todo.completed ? 'x' : ' '}] ${todo.text} (${todo.priority})`;
}

/** Accepts an integer, or a string of digits (LLM-driven callers sometimes send those). */
function readId(args) {
  const raw = args.id;
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

/** Returns the todo named by args.id, or a tool-error result. */
function findTodo(args) {
  if (args.id === undefined) return { error: toolError('Missing required argument: id') };
  const id = readId(args);
  if (id === undefined) return { error: toolError(`Invalid id: ${JSON.stringify(args.id)}`) };
  const todo = todos.get(id);
  if (todo === undefined) return { error: toolError(`Todo #${id} not found`) };
  return { todo };
}

const HANDLERS = {
  add_todo(args) {
    if (args.text === undefined) return toolError('Missing required argument: text');
    if (typeof args.text !== 'string' || args.text.trim() === '') {
      return toolError('Argument text must be a non-empty string');
    }
    const priority = args.priority ?? 'medium';
    if (!PRIORITIES.includes(priority)) {
      return toolError(
        `Invalid priority: ${JSON.stringify(priority)} (expected low, medium or high)`,
      );
    }
    const todo = { id: nextTodoId++, text: args.text, priority, completed: false };
    todos.set(todo.id, todo);
    return text(`Added todo #${todo.id}: ${todo.text} (priority: ${todo.priority})`, {
      todo: copy(todo),
    });
  },

  list_todos(args) {
    const status = args.status ?? 'all';
    if (!STATUSES.includes(status)) {
      return toolError(
        `Invalid status: ${JSON.stringify(status)} (expected all, pending or completed)`,
      );
    }
    const selected = [...todos.values()].filter(
      (t) => status === 'all' || (status === 'completed') === t.completed,
    );
    const listing = selected.length === 0 ? 'No todos.' : selected.map(describe).join('\n');
    return text(listing, { todos: selected.map(copy) });
  },

  complete_todo(args) {
    const found = findTodo(args);
    if (found.error) return found.error;
    const { todo } = found;
    const already = todo.completed;
    todo.completed = true;
    return text(
      already
        ? `Todo #${todo.id} was already completed`
        : `Completed todo #${todo.id}: ${todo.text}`,
      { todo: copy(todo) },
    );
  },

  delete_todo(args) {
    const found = findTodo(args);
    if (found.error) return found.error;
    const { todo } = found;
    todos.delete(todo.id);
    return text(`Deleted todo #${todo.id}: ${todo.text}`, { todo: copy(todo) });
  },

  clear_todos() {
    const count = todos.size;
    todos.clear();
    return text(`Cleared ${count} todo${count === 1 ? '' : 's'}.`, { cleared: count });
  },
};

// ---------------------------------------------------------------------------------------------------------
// Requests

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function handleRequest(id, method, params) {
  switch (method) {
    case 'initialize': {
      const requested = params.protocolVersion;
      const protocolVersion = SUPPORTED_VERSIONS.includes(requested) ? requested : LATEST_VERSION;
      reply(id, {
        protocolVersion,
        capabilities: { tools: { listChanged: true } },
        serverInfo: SERVER_INFO,
        instructions:
          'A simple todo list: add_todo, list_todos, complete_todo, delete_todo, clear_todos.',
      });
      return;
    }
    case 'ping':
      reply(id, {});
      return;
    case 'tools/list':
      if (params.cursor !== undefined) {
        replyError(id, INVALID_PARAMS, 'Invalid cursor');
        return;
      }
      reply(id, { tools: TOOLS });
      return;
    case 'tools/call': {
      const name = params.name;
      const handler =
        typeof name === 'string' && Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
      if (handler === undefined) {
        replyError(id, INVALID_PARAMS, `Unknown tool: ${String(name)}`);
        return;
      }
      const args = params.arguments ?? {};
      if (!isObject(args)) {
        replyError(id, INVALID_PARAMS, 'Tool arguments must be an object');
        return;
      }
      reply(id, handler(args));
      return;
    }
    default:
      replyError(id, METHOD_NOT_FOUND, `Method not found: ${method}`);
  }
}

function handleNotification(method) {
  // notifications/initialized, notifications/cancelled (every call is answered synchronously, so there
  // is never anything to cancel) and unknown notifications need no action.
  if (DEBUG && method !== 'notifications/initialized' && method !== 'notifications/cancelled') {
    log(`ignoring notification ${method}`);
  }
}

function isValidId(id) {
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id));
}

function handleLine(line) {
  if (line.trim() === '') return;
  if (DEBUG) log(`<- ${line.length > 500 ? `${line.slice(0, 500)}…` : line}`);
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    replyError(undefined, PARSE_ERROR, 'Parse error');
    return;
  }
  if (!isObject(message)) {
    replyError(undefined, INVALID_REQUEST, 'Invalid Request: expected a JSON-RPC message object');
    return;
  }
  const hasId = Object.hasOwn(message, 'id');
  const { id, method } = message;
  if (typeof method !== 'string') {
    // A response from the client (this server never sends requests), or garbage: nothing to answer.
    if (hasId && !('result' in message) && !('error' in message)) {
      replyError(
        isValidId(id) ? id : undefined,
        INVALID_REQUEST,
        'Invalid Request: missing method',
      );
    }
    return;
  }
  if (!hasId) {
    handleNotification(method);
    return;
  }
  if (!isValidId(id)) {
    replyError(undefined, INVALID_REQUEST, 'Invalid Request: id must be a string or an integer');
    return;
  }
  const params = message.params ?? {};
  if (!isObject(params)) {
    replyError(id, INVALID_PARAMS, 'params must be an object');
    return;
  }
  try {
    handleRequest(id, method, params);
  } catch (err) {
    replyError(
      id,
      INTERNAL_ERROR,
      `Internal error: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main loop

function shutdown() {
  // Let queued stdout writes go out first (writes are ordered, so this callback runs after them).
  if (stdoutBroken) process.exit(0);
  process.stdout.write('', () => process.exit(0));
}

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline !== -1) {
    let line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    handleLine(line);
    newline = buffered.indexOf('\n');
  }
});
process.stdin.on('end', () => {
  if (buffered !== '') handleLine(buffered.endsWith('\r') ? buffered.slice(0, -1) : buffered);
  buffered = '';
  shutdown();
});
process.stdin.on('error', shutdown);

log(`mcpmux-todo ${SERVER_INFO.version} ready (pid ${process.pid})`);
