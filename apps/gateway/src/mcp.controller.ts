import { Controller, Delete, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { HubLogger } from '@hub/config';
import { GATEWAY_LOGGER, OrchestrationViews, SessionFiles } from '@hub/gateway-http';
import { MCP_HTTP_PATH, refuseMcpMethod, RpcHubClient, serveMcpHttpRequest } from '@hub/mcp';
import { RpcClient } from '@hub/messaging';

/**
 * Hub's MCP tools over streamable HTTP at /mcp, behind the same bearer token as /api/v1 (checked
 * by middleware before the body is read). The tools reach Hub the way the REST controllers do.
 */
@Controller(MCP_HTTP_PATH)
export class McpController {
  private readonly hub: RpcHubClient;

  constructor(
    rpc: RpcClient,
    files: SessionFiles,
    views: OrchestrationViews,
    @Inject(GATEWAY_LOGGER) private readonly logger: HubLogger,
  ) {
    this.hub = new RpcHubClient(rpc, files, views);
  }

  @Post()
  handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    return serveMcpHttpRequest(req, res, this.hub, this.logger);
  }

  @Get()
  stream(@Res() res: Response): void {
    refuseMcpMethod(res);
  }

  @Delete()
  end(@Res() res: Response): void {
    refuseMcpMethod(res);
  }
}
