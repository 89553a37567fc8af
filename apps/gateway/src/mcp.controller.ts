import { Controller, Delete, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import { CallerContext } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';
import { MCP_HTTP_PATH, refuseMcpMethod, serveMcpHttpRequest } from '@hub/mcp';

/**
 * Hub's MCP tools over streamable HTTP at /mcp, behind the same bearer token as /api/v1 (checked
 * by middleware before the body is read), each tool within the key's scope. The tools reach Hub
 * through the same port as the REST controllers, so they answer alike.
 */
@Controller(MCP_HTTP_PATH)
export class McpController {
  constructor(
    private readonly hub: HubApi,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  @Post()
  handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    return serveMcpHttpRequest(req, res, this.hub, this.logger, CallerContext.current().scope);
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
