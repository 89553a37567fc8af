import fc, { type Arbitrary } from 'fast-check';
import { envelope, type Target } from './compose';
import { jsonBodies, jsonContentType, type HostileContext } from './hostile-envelope';
import type { HostileRequest } from './hostile-request';
import { broken, hostileValue, nastyString, notA, remove, setTo, unknownUuid, type Breaker } from './hostile-values';

const WEBHOOK = '/api/webhooks/claude';

const project = fc.record(
  {
    repository: fc.constantFrom('owner/repo', 'https://github.com/o/r'),
    requirements: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ''),
    context: fc.oneof(fc.constant(''), fc.string({ maxLength: 20 })),
    branch: fc.constantFrom('main', ''),
  },
  { requiredKeys: ['repository', 'requirements'] },
);
const claudeType = fc.constantFrom('implementation', 'analysis', 'testing', 'review', 'coordination');

const validCreate = fc
  .record(
    {
      type: claudeType,
      project,
      dependencies: fc.constantFrom([], ['', 'none', ' ']),
      options: fc.record({ autoStart: fc.boolean(), timeout: fc.integer({ min: 1, max: 3600 }) }, { requiredKeys: [] }),
    },
    { requiredKeys: ['project'] },
  )
  .map((session) => ({ type: 'session.create', session }) as Record<string, unknown>);

const validOrchestrate = fc
  .record(
    {
      project,
      sessionType: claudeType,
      autoStart: fc.boolean(),
      strategy: fc.record({ parallelSessions: fc.integer({ min: 1, max: 10 }), timeout: fc.integer({ min: 1, max: 3_600_000 }) }, { requiredKeys: [] }),
    },
    { requiredKeys: ['project'] },
  )
  .map((request) => ({ type: 'orchestrate', ...request }) as Record<string, unknown>);

/** Applies a breaker to the object at `path` (creating nothing: if it is not there, the request is already invalid). */
const at = (path: string[], breaker: Arbitrary<Breaker>): Arbitrary<Breaker> =>
  breaker.map((b) => ({
    why: `${path.join('.')}.${b.why}`,
    apply: (o) => {
      let target: unknown = o;
      for (const key of path) target = typeof target === 'object' && target !== null ? (target as Record<string, unknown>)[key] : undefined;
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) b.apply(target as Record<string, unknown>);
    },
  }));

/** claude-hub's schemas drop unknown fields, so only required or typed fields can break a request. */
const projectBreakers = (path: string[]): Arbitrary<Breaker>[] => [
  at(path, remove('project')),
  at(path, setTo('project', notA('object'), 'is not an object')),
  at([...path, 'project'], remove('repository')),
  at([...path, 'project'], remove('requirements')),
  at([...path, 'project'], setTo('repository', fc.oneof(notA('string'), fc.constantFrom('', '   ', 'r'.repeat(2049))), 'is invalid')),
  at([...path, 'project'], setTo('requirements', fc.oneof(notA('string'), fc.constantFrom('', ' \t\n', 'q'.repeat(200_001))), 'is invalid')),
  at([...path, 'project'], setTo('context', fc.oneof(notA('string', 'null'), fc.constant('c'.repeat(200_001))), 'is invalid')),
];

/** What claude-hub's SessionHandler does not drop (it drops "", blanks and "none") and is no UUID. */
const notAnId = nastyString.filter((s) => s.trim() !== '' && s.trim().toLowerCase() !== 'none');

const createBreakers: Arbitrary<Breaker>[] = [
  remove('session'),
  setTo('session', notA('object'), 'is not an object'),
  ...projectBreakers(['session']),
  at(['session'], setTo('id', hostileValue, 'is given')),
  at(['session'], setTo('type', fc.oneof(notA('string'), fc.constantFrom('Implementation', 'x', '')), 'is no claude-hub type')),
  at(['session'], setTo('dependencies', fc.oneof(notA('array', 'null'), fc.array(notAnId, { minLength: 1, maxLength: 3 })), 'holds no UUIDs')),
  at(['session'], setTo('options', fc.constantFrom({ timeout: 0 }, { timeout: -1 }, { timeout: 'x' }, { timeout: 1.5 }, { autoStart: 'yes' }, 'x', 1), 'is invalid')),
  setTo('options', fc.constantFrom({ timeout: 0 }, { autoStart: 1 }, [], 'x'), 'is invalid'),
];

const orchestrateBreakers: Arbitrary<Breaker>[] = [
  ...projectBreakers([]),
  setTo('sessionType', fc.oneof(notA('string'), fc.constantFrom('Coordination', '')), 'is no claude-hub type'),
  setTo('autoStart', notA('boolean', 'null'), 'is not a boolean'),
  setTo(
    'strategy',
    fc.oneof(notA('object', 'null'), fc.constantFrom({ parallelSessions: 0 }, { parallelSessions: 'x' }, { timeout: -1 }, { timeout: 1e15 })),
    'is invalid',
  ),
];

/** Refused by the registry or the webhook with nothing stored: unknown dependencies, U+0000 in the text. */
const refusedCreate = fc.oneof(
  fc.tuple(validCreate, fc.array(unknownUuid, { minLength: 1, maxLength: 20 })).map(([request, ids]) => {
    (request['session'] as Record<string, unknown>)['dependencies'] = ids;
    return { value: request, why: 'depends on unknown sessions' };
  }),
  fc.tuple(validCreate, fc.constantFrom('repository', 'requirements')).map(([request, field]) => {
    const p = (request['session'] as { project: Record<string, string> }).project;
    p[field] = `${p[field]}\u0000`;
    return { value: request, why: `project.${field} holds U+0000` };
  }),
);
const refusedOrchestrate = validOrchestrate.map((request) => {
  const p = request['project'] as Record<string, string>;
  p['requirements'] = `x\u0000${p['requirements']}`;
  return { value: request, why: 'project.requirements holds U+0000' };
});

/** Requests that only read, or name sessions nobody has: any of them may succeed. */
const harmless = (ctx: HostileContext) =>
  fc.oneof(
    fc.tuple(fc.constantFrom('session.get', 'session.output'), fc.oneof(fc.constant(ctx.fixture.sessionId), unknownUuid, hostileValue)).map(([type, sessionId]) => ({
      value: { type, sessionId },
      why: `${type} of ${JSON.stringify(sessionId)?.slice(0, 40)}`,
    })),
    fc.oneof(unknownUuid, hostileValue).map((sessionId) => ({ value: { type: 'session.start', sessionId }, why: 'session.start of a session nobody has' })),
    fc
      .record(
        {
          orchestrationId: fc.oneof(fc.constant(ctx.fixture.orchestrationId), fc.constant(''), unknownUuid, hostileValue),
          status: fc.oneof(fc.constantFrom('all', 'running', 'queued', 'RUNNING'), hostileValue),
        },
        { requiredKeys: [] },
      )
      .map((fields) => ({ value: { type: 'session.list', ...fields }, why: 'session.list' })),
    fc
      .oneof(
        fc.constant({}),
        fc.record({ type: fc.oneof(notA('string'), fc.constantFrom('', 'session.delete', 'SESSION.CREATE', '__proto__', 'constructor', 'toString', 'session.create ')) }),
        fc.constant({ data: { type: 'session.list' } }),
        fc.constant({ data: 'x' }),
        fc.constant({ type: 'session.list', data: { type: 'session.create' } }),
      )
      .map((value) => ({ value: value as Record<string, unknown>, why: 'no claude-hub request' })),
  );

export function webhookRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const creating = fc.oneof(
    { arbitrary: broken(validCreate, createBreakers), weight: 4 },
    { arbitrary: broken(validOrchestrate, orchestrateBreakers), weight: 3 },
    { arbitrary: refusedCreate, weight: 1 },
    { arbitrary: refusedOrchestrate, weight: 1 },
  );
  /** `{ data: request }`, the wrapping claude-hub's docs show, taken as well. */
  const maybeWrapped = <T extends { value: Record<string, unknown>; why: string }>(arb: Arbitrary<T>) =>
    fc.tuple(arb, fc.boolean()).map(([r, wrap]) => (wrap && r.value['type'] !== undefined ? { value: { data: r.value }, why: `${r.why}, wrapped in data` } : r));
  const target = (creates: boolean) =>
    ([body, contentType]: [Target['body'], [string, string][]]): Target => ({
      route: 'POST /api/webhooks/claude',
      method: 'POST',
      path: WEBHOOK,
      body,
      contentType,
      expect: creates ? { createsNothing: 'webhook' } : {},
      note: creates ? 'a creating request' : 'a reading request',
    });
  const targets = fc.oneof(
    { arbitrary: fc.tuple(jsonBodies(maybeWrapped(creating), ctx.bodyLimit, 'dependencies'), jsonContentType).map(target(true)), weight: 30 },
    { arbitrary: fc.tuple(jsonBodies(harmless(ctx), ctx.bodyLimit, 'dependencies'), jsonContentType).map(target(false)), weight: 20 },
    {
      arbitrary: fc
        .constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'HEAD')
        .map((method): Target => ({ route: `${method} /api/webhooks/claude`, method, path: WEBHOOK, note: 'method not allowed' })),
      weight: 3,
    },
  );
  return envelope(ctx, targets);
}
