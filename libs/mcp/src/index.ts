export * from './hub-tools';
export * from './hub-mcp.server';
export * from './session-output';
export * from './tool-result';
export * from './contract-request';
export * from './mcp-http.handler';
