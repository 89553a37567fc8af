import { Body, Controller, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CallerContext, CLAUDE_HUB_WEBHOOK_PATH, ClaudeHubWebhook, ClaudeWebhookEnvelope } from '@hub/gateway-http';

/**
 * claude-hub's webhook endpoint, so that its clients (mcp-claude-hub) work against Hub unchanged.
 * The token (an API key, or CLAUDE_WEBHOOK_SECRET) is checked before the body is read (see
 * createGatewayHttpApp); the body is validated against claude-hub's request shapes by
 * ClaudeHubWebhook, which checks the key's scope for its type and answers in claude-hub's envelope.
 */
@Controller(CLAUDE_HUB_WEBHOOK_PATH)
export class ClaudeHubWebhookController {
  constructor(private readonly webhook: ClaudeHubWebhook) {}

  @Post()
  async handle(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<ClaudeWebhookEnvelope> {
    const { httpStatus, envelope } = await this.webhook.handle(body, CallerContext.current().scope);
    res.status(httpStatus);
    return envelope;
  }
}
