// Public API of the mcpmux package.
export { MCPService } from './mcp/mcp-service.js';
export { MCPClient } from './mcp/mcp-client.js';
export type {
  MCPClientOptions,
  RequestOptions,
  StartOptions,
  ClientState,
} from './mcp/mcp-client.js';
export type { Tool } from './mcp/mcp-helpers.js';
export { MCPManager } from './sessions/mcp-manager.js';
export type { MCPManagerOptions, ServiceValidation } from './sessions/mcp-manager.js';
export { loadConfig, ConfigError, describeServices } from './config/load.js';
export type * from './config/types.js';
export { Relay, createRelay, VERSION } from './relay.js';
export type { RelayOptions, RelayState } from './relay.js';
export { McpmuxError, UpstreamError, REASONS, toJsonRpcError } from './errors.js';
export type { Reason } from './errors.js';
export type { ExitInfo } from './sandbox/managed-child.js';
