import { HTTP_ROUTES, jsonBody, openApiDocument, type OpenApiDocument } from '@hub/contracts';
import { ClaudeWebhookEnvelopeSchema, ClaudeWebhookRequestSchema } from '../claude-hub/claude-hub.schemas';

const envelope = jsonBody(ClaudeWebhookEnvelopeSchema);

/**
 * The document `GET /api/openapi.json` serves: the contracts' routes catalog, with the claude-hub
 * webhook's bodies in their own schemas (an external protocol's shapes, kept beside the mapping
 * here rather than in @hub/contracts, where the catalog only outlines them).
 */
export function hubOpenApiDocument(): OpenApiDocument {
  const webhook = HTTP_ROUTES.claudeHubWebhook;
  return openApiDocument({
    ...HTTP_ROUTES,
    claudeHubWebhook: {
      ...webhook,
      body: jsonBody(ClaudeWebhookRequestSchema),
      responses: {
        200: { ...webhook.responses[200], body: envelope },
        207: { ...webhook.responses[207], body: envelope },
        400: { ...webhook.responses[400], body: envelope },
      },
    },
  });
}
