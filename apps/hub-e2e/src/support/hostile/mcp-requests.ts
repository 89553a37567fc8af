import fc, { type Arbitrary } from 'fast-check';
import { envelope, type Target } from './compose';
import { jsonBodies, jsonContentType, type HostileContext } from './hostile-envelope';
import type { HostileRequest } from './hostile-request';
import { invalidOrchestration } from './rest-requests';
import { broken, hostileValue, nastyString, notA, remove, setTo, unknownKey, unknownUuid, type Breaker } from './hostile-values';

const MCP = '/mcp';
const ACCEPT: [string, string] = ['accept', 'application/json, text/event-stream'];

const validCreateSessionArgs = fc.record(
  {
    type: fc.constantFrom('analysis', 'review'),
    prompt: fc.string({ minLength: 1, maxLength: 30 }),
    repository: fc.constant('owner/repo'),
    branch: fc.constant('main'),
    dependencies: fc.array(fc.uuid(), { maxLength: 2 }),
    start: fc.boolean(),
    name: fc.constantFrom('a', 'b.c'),
    image: fc.constant('hub/test-agent:latest'),
    timeout_seconds: fc.integer({ min: 1, max: 60 }),
    retries: fc.integer({ min: 0, max: 3 }),
  },
  { requiredKeys: ['prompt'] },
) as Arbitrary<Record<string, unknown>>;

/** create_session's arguments are a strict object; `prompt` may come from project.requirements instead. */
const createSessionBreakers: Arbitrary<Breaker>[] = [
  remove('prompt', 'project'),
  setTo('prompt', fc.oneof(notA('string'), fc.constant('')), 'is invalid'),
  setTo('project', notA('object'), 'is not an object'),
  setTo('project', fc.constantFrom({ requirements: 1 }, { repository: '' }, { requirements: '' }, { branch: 5 }), 'is invalid'),
  setTo('dependencies', fc.oneof(notA('array'), fc.array(nastyString, { minLength: 1, maxLength: 3 })), 'holds no UUIDs'),
  setTo('start', notA('boolean'), 'is not a boolean'),
  setTo('name', fc.oneof(notA('string'), fc.constantFrom('', '../x', 'a b')), 'is no name'),
  setTo('orchestration_id', fc.oneof(notA('string'), nastyString), 'is no UUID'),
  setTo('image', fc.oneof(notA('string'), fc.constantFrom('', 'A B', 'hub/../busybox', 'HUB/x')), 'is no image'),
  setTo('timeout_seconds', fc.oneof(notA('number'), fc.constantFrom(0, -5, 0.5)), 'is out of range'),
  setTo('retries', fc.oneof(notA('number'), fc.constantFrom(-1, 11)), 'is out of range'),
  setTo('type', fc.oneof(notA('string'), fc.constantFrom('', 'UPPER')), 'is no type'),
  setTo('orchestrationId', fc.uuid(), 'is the REST name, unknown here'),
  unknownKey,
];

/** Well-typed but refused (nothing stored): an unknown orchestration or dependency, U+0000 in the prompt. */
const refusedCreateSessionArgs = fc.oneof(
  fc.tuple(validCreateSessionArgs, unknownUuid).map(([args, id]) => ({ value: { ...args, orchestration_id: id }, why: 'unknown orchestration' })),
  fc.tuple(validCreateSessionArgs, unknownUuid).map(([args, id]) => ({ value: { ...args, dependencies: [id] }, why: 'unknown dependency' })),
  validCreateSessionArgs.map((args) => ({ value: { ...args, prompt: `${String(args['prompt'])}\u0000` }, why: 'U+0000 in the prompt' })),
);

/** Arguments for the tools that only read, or that act on sessions nobody has. */
const otherToolArgs = (ctx: HostileContext): Arbitrary<{ name: string; args: unknown }> => {
  const anyId = fc.oneof(fc.constant(ctx.fixture.sessionId), unknownUuid, hostileValue);
  const absentId = fc.oneof(unknownUuid, hostileValue);
  const junk = fc.dictionary(fc.oneof(nastyString, fc.constantFrom('session_id', 'tail', 'limit', 'cursor', 'status', '__proto__')), hostileValue, { maxKeys: 4 });
  return fc.oneof(
    fc
      .tuple(fc.constantFrom('get_session_status', 'get_session_output'), fc.oneof(anyId.map((session_id) => ({ session_id })), junk))
      .map(([name, args]) => ({ name, args })),
    fc.tuple(fc.constantFrom('start_session', 'cancel_session'), fc.oneof(absentId.map((session_id) => ({ session_id })), junk)).map(([name, args]) => ({ name, args })),
    fc
      .record({ session_id: anyId, tail: fc.oneof(fc.integer({ min: -5, max: 20_000 }), hostileValue) }, { requiredKeys: [] })
      .map((args) => ({ name: 'get_session_logs', args })),
    fc
      .record(
        {
          orchestration_id: fc.oneof(fc.constant(ctx.fixture.orchestrationId), unknownUuid, hostileValue),
          status: fc.oneof(fc.constantFrom('completed', 'created', 'bogus'), hostileValue),
          type: fc.oneof(fc.constantFrom('analysis', 'UPPER'), hostileValue),
          limit: fc.oneof(fc.integer({ min: -1, max: 600 }), hostileValue),
          cursor: fc.oneof(fc.constantFrom('abc', '!!', 'x'.repeat(65)), hostileValue),
        },
        { requiredKeys: [] },
      )
      .map((args) => ({ name: 'list_sessions', args })),
    fc
      .tuple(
        fc.oneof(nastyString, fc.constantFrom('', 'create', 'create_session ', 'CREATE_SESSION', '__proto__', 'constructor', 'toString', 'x'.repeat(10_000))),
        fc.oneof(junk, hostileValue),
      )
      .map(([name, args]) => ({ name, args })),
    fc.tuple(fc.constantFrom('get_session_status', 'list_sessions', 'start_session'), notA('object')).map(([name, args]) => ({ name, args })),
  );
};

const jsonRpcId = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 1000 }), weight: 8 },
  { arbitrary: fc.constantFrom<unknown>(-1, 1.5, 2 ** 64, '', 'id', 'x'.repeat(10_000), '__proto__', null, {}, [], true), weight: 2 },
);

const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'resources/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'sampling/createMessage',
  'rpc.discover',
  '$/cancelRequest',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  '',
];
const INITIALIZE = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } };

const message = (method: unknown, params?: unknown, id: unknown = 1): Record<string, unknown> =>
  params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };

/** JSON-RPC messages that read or refer to nothing that exists: any may succeed. */
const readingMessage = (ctx: HostileContext): Arbitrary<Record<string, unknown>> =>
  fc.oneof(
    { arbitrary: fc.tuple(otherToolArgs(ctx), jsonRpcId).map(([{ name, args }, id]) => message('tools/call', { name, arguments: args }, id)), weight: 8 },
    {
      arbitrary: fc
        .tuple(
          fc.constantFrom(...METHODS),
          fc.option(fc.oneof(hostileValue, fc.constant(INITIALIZE), fc.constant({ cursor: 'x'.repeat(1000) })), { nil: undefined }),
          jsonRpcId,
        )
        .map(([method, params, id]) => message(method, params, id)),
      weight: 3,
    },
    { arbitrary: fc.tuple(nastyString, hostileValue).map(([method, params]) => message(method, params)), weight: 1 },
    {
      arbitrary: fc.constantFrom<Record<string, unknown>>(
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'x' } },
        { jsonrpc: '2.0', method: 'notifications/unknown' },
        { jsonrpc: '2.0', id: 1, result: {} },
        { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'x' } },
        { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } },
        { jsonrpc: '1.0', id: 1, method: 'ping' },
        { jsonrpc: 2, id: 1, method: 'ping' },
        { id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 1, method: 5 },
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: [] },
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: 'x' },
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 5 } },
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { _meta: { progressToken: {} }, name: 'list_sessions' } },
      ),
      weight: 2,
    },
  );

/** One JSON-RPC body: a single message, a batch (empty, duplicate ids, over the SDK's 100), or no JSON-RPC at all. */
const readingBody = (ctx: HostileContext): Arbitrary<{ value: unknown; why: string }> =>
  fc.oneof(
    { arbitrary: readingMessage(ctx).map((value) => ({ value, why: `${String(value['method'])}` })), weight: 100 },
    { arbitrary: fc.array(readingMessage(ctx), { maxLength: 5 }).map((value) => ({ value, why: `a batch of ${value.length}` })), weight: 20 },
    { arbitrary: fc.constant(Array.from({ length: 101 }, (_, i) => message('ping', undefined, i))).map((value) => ({ value, why: 'a batch of 101' })), weight: 3 },
    {
      arbitrary: fc.constant({ value: [message('initialize', INITIALIZE), message('initialize', {}, 2)], why: 'two initialize requests' }),
      weight: 3,
    },
    { arbitrary: hostileValue.map((value) => ({ value, why: 'no JSON-RPC message' })), weight: 10 },
  );

/** A tools/call that would create something, made invalid or refused by construction. */
const creatingBody: Arbitrary<{ value: unknown; why: string }> = fc.oneof(
  fc.tuple(fc.oneof({ arbitrary: broken(validCreateSessionArgs, createSessionBreakers), weight: 4 }, { arbitrary: refusedCreateSessionArgs, weight: 1 }), jsonRpcId).map(
    ([{ value, why }, id]) => ({
      value: message('tools/call', { name: 'create_session', arguments: value }, id),
      why: `create_session: ${why}`,
    }),
  ),
  fc.tuple(invalidOrchestration, jsonRpcId).map(([{ value, why }, id]) => ({
    value: message('tools/call', { name: 'create_orchestration', arguments: value }, id),
    why: `create_orchestration: ${why}`,
  })),
);

const acceptHeader: Arbitrary<[string, string][]> = fc.oneof(
  { arbitrary: fc.constant<[string, string][]>([ACCEPT]), weight: 12 },
  {
    arbitrary: fc.constantFrom<[string, string][]>(
      [],
      [['accept', 'application/json']],
      [['accept', 'text/event-stream']],
      [['accept', '*/*']],
      [ACCEPT, ['mcp-protocol-version', '2025-06-18']],
      [ACCEPT, ['mcp-protocol-version', 'x'.repeat(300)]],
      [ACCEPT, ['mcp-session-id', 'not-a-session']],
      [ACCEPT, ['last-event-id', '../../x']],
    ),
    weight: 3,
  },
);

export function mcpRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const post = (creates: boolean) =>
    ([body, contentType, headers]: [Target['body'], [string, string][], [string, string][]]): Target => ({
      route: 'POST /mcp',
      method: 'POST',
      path: MCP,
      body,
      contentType,
      headers,
      expect: creates ? { createsNothing: 'mcp' } : {},
      note: '',
    });
  const targets = fc.oneof(
    { arbitrary: fc.tuple(jsonBodies(creatingBody, ctx.bodyLimit, 'params'), jsonContentType, acceptHeader).map(post(true)), weight: 4 },
    { arbitrary: fc.tuple(jsonBodies(readingBody(ctx), ctx.bodyLimit, 'params'), jsonContentType, acceptHeader).map(post(false)), weight: 6 },
    {
      arbitrary: fc
        .constantFrom('GET', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS')
        .map((method): Target => ({ route: `${method} /mcp`, method, path: MCP, headers: [ACCEPT], note: 'method not allowed' })),
      weight: 1,
    },
  );
  return envelope(ctx, targets);
}
