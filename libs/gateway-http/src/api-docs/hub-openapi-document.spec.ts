import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { CreateOrchestrationRequestSchema, HTTP_ROUTES } from '@hub/contracts';
import { buildSessionView, InMemoryHubApi } from '@hub/testing';
import { hubOpenApiDocument } from './hub-openapi-document';

/** swagger-parser dereferences the document it validates, in place: it gets a copy. */
const validated = (document: object) => SwaggerParser.validate(structuredClone(document) as never);

type Operation = {
  operationId: string;
  security: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema?: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema?: Record<string, unknown> }> }>;
};

describe('the OpenAPI document the gateway serves', () => {
  const document = hubOpenApiDocument();
  const operations = Object.values(document.paths).flatMap((item) => Object.values(item) as Operation[]);

  it('is a valid OpenAPI 3.1 document (swagger-parser: the 3.1 schema, and every $ref resolves)', async () => {
    await expect(validated(document)).resolves.toMatchObject({ openapi: '3.1.1' });
  });

  it('is refused by the same validator when it is not (so the test above tests something)', async () => {
    const [path] = Object.keys(document.paths);
    await expect(validated({ ...document, paths: { ...document.paths, [path]: { get: { responses: 'none' } } } })).rejects.toThrow();
    await expect(
      validated({ ...document, components: { ...document.components, schemas: { ...document.components.schemas, SessionView: undefined } } }),
    ).rejects.toThrow(/SessionView/);
  });

  it('has one operation per route of the catalog, under its name', () => {
    expect(operations.map((operation) => operation.operationId).sort()).toEqual(Object.keys(HTTP_ROUTES).sort());
  });

  it("asks for the token everywhere but on the probes, the metrics, the description itself and the dashboard's pages", () => {
    const open = operations.filter((operation) => operation.security.length === 0).map((operation) => operation.operationId);
    const dashboard = ['dashboard', 'dashboardHealth', 'dashboardOrchestration', 'dashboardOrchestrations', 'dashboardSession'];
    expect(open.sort()).toEqual([...dashboard, 'apiDocs', 'liveness', 'metrics', 'openApiDocument', 'readiness'].sort());
    expect(document.components.securitySchemes).toMatchObject({ bearer: { type: 'http', scheme: 'bearer' } });
  });

  it("answers errors in the house shape, and names the contracts' schemas as components", () => {
    expect(document.components.schemas['Error']).toMatchObject({ required: ['error', 'message'], properties: { details: {} } });
    const getSession = operations.find((operation) => operation.operationId === 'getSession')!;
    expect(getSession.responses['200'].content!['application/json'].schema).toEqual({ $ref: '#/components/schemas/SessionView' });
    expect(getSession.responses['404'].content!['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(getSession.parameters!.map((p) => `${p.in} ${p.name}`)).toEqual(['path id', 'query wait', 'query timeoutSeconds']);
  });

  it("describes the claude-hub webhook in claude-hub's own shapes", () => {
    const webhook = operations.find((operation) => operation.operationId === 'claudeHubWebhook')!;
    const body = webhook.requestBody!.content['application/json'].schema!;
    expect(JSON.stringify(body)).toContain('session.create');
    expect(webhook.responses['207'].content!['application/json'].schema).toMatchObject({ properties: { handlerCount: { type: 'integer' } } });
  });

  describe('describes the answers as the gateway writes them', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    let answerSchema: (operationId: string, status: string) => ValidateFunction;

    beforeAll(async () => {
      const dereferenced = (await SwaggerParser.dereference(structuredClone(document) as never)) as unknown as typeof document;
      const byId = new Map(Object.values(dereferenced.paths).flatMap((item) => Object.values(item) as Operation[]).map((o) => [o.operationId, o]));
      answerSchema = (operationId, status) => ajv.compile(byId.get(operationId)!.responses[status].content!['application/json'].schema!);
    });

    it('accepts the answers of HubApi (in memory) and the refusals of the error filter', async () => {
      const hub = new InMemoryHubApi();
      const orchestration = await hub.createOrchestration(
        CreateOrchestrationRequestSchema.parse({ name: 'o', sessions: [{ name: 'a', prompt: 'p' }, { name: 'b', prompt: 'q', dependsOn: ['a'] }] }),
      );
      const answers: [string, string, unknown][] = [
        ['createOrchestration', '201', orchestration],
        ['listOrchestrations', '200', await hub.listOrchestrations({})],
        ['getSession', '200', await hub.getSession(orchestration.sessions[0].id)],
        ['listSessions', '200', await hub.listSessions({})],
        ['getSession', '200', buildSessionView({ changes: null, log: { bytes: 3, droppedBytes: 0 } })],
        ['readiness', '503', { status: 'unavailable', checks: [{ name: 'nats', ok: false, detail: 'down', fix: 'start it' }] }],
        ['getSession', '404', { error: 'not_found', message: 'no such session' }],
        ['createSession', '400', { error: 'bad_request', message: 'prompt: is required', details: [{ path: 'prompt', message: 'is required' }] }],
      ];
      for (const [operationId, status, answer] of answers) {
        const validate = answerSchema(operationId, status);
        expect({ operationId, status, valid: validate(answer), errors: validate.errors ?? null }).toEqual({ operationId, status, valid: true, errors: null });
      }
    });

    it('refuses what the contracts refuse', () => {
      const { status: _status, ...withoutStatus } = buildSessionView();
      expect(answerSchema('getSession', '200')(withoutStatus)).toBe(false);
      expect(answerSchema('getSession', '200')({ ...buildSessionView(), status: 'sleeping' })).toBe(false);
    });
  });
});
