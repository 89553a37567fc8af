import fc, { type Arbitrary } from 'fast-check';
import { envelope, type Target } from './compose';
import { jsonBodies, jsonContentType, type HostileContext } from './hostile-envelope';
import type { HostileRequest } from './hostile-request';
import {
  badUtf8Encoded,
  broken,
  encode,
  malformedIdInPath,
  nastyNumber,
  nastyString,
  notA,
  remove,
  setTo,
  unknownKey,
  unknownUuid,
  type Breaker,
} from './hostile-values';

const SESSIONS = '/api/v1/sessions';

/** `arb` in `percent` % of cases, else null. */
const sometimes = <T>(arb: Arbitrary<T>, percent: number): Arbitrary<T | null> =>
  fc.oneof({ arbitrary: fc.constant(null), weight: 100 - percent }, { arbitrary: arb, weight: percent });
const ORCHESTRATIONS = '/api/v1/orchestrations';
const OTHER_METHODS = ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'HEAD'];

// ---- valid-looking parts ---------------------------------------------------------------------------

const sessionType = fc.constantFrom('analysis', 'implementation', 'testing', 'review', 'coordination', 'x-y_z');
const sessionName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,20}$/);
const prompt = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }));
// Any spelling Docker takes; Hub stores each in its familiar form (hub/test-agent:latest, alpine@sha256:…).
const image = fc.constantFrom('hub/test-agent:latest', 'hub/claude-code:latest', 'hub/test-agent', 'docker.io/hub/test-agent', 'docker.io/library/alpine@sha256:' + 'a'.repeat(64));

const validSession = fc.record(
  {
    type: sessionType,
    prompt,
    image,
    name: sessionName,
    repository: fc.constantFrom('owner/name', 'https://github.com/o/r.git', '/srv/repos/r.git'),
    branch: fc.constantFrom('main', 'feature/x'),
    timeoutSeconds: fc.integer({ min: 1, max: 3600 }),
    dependsOn: fc.array(fc.uuid(), { maxLength: 3 }),
    retries: fc.integer({ min: 0, max: 10 }),
    start: fc.boolean(),
  },
  { requiredKeys: ['prompt'] },
) as Arbitrary<Record<string, unknown>>;

/** Each alone makes a session request invalid; the body never reaches the registry. */
const sessionBreakers: Arbitrary<Breaker>[] = [
  remove('prompt'),
  setTo('prompt', notA('string'), 'is not a string'),
  setTo('prompt', fc.constantFrom('', 'p'.repeat(200_001)), 'is empty or too long'),
  setTo('type', fc.oneof(notA('string'), fc.constantFrom('', 'Analysis', 'a b', '../x', 'x'.repeat(65), '\u0000')), 'is no lower-case label'),
  setTo('image', fc.oneof(notA('string'), fc.constantFrom('', ' hub/x', 'hub/x;rm -rf /', 'x'.repeat(256), '../../etc', 'hub/../busybox', 'hub//x', 'HUB/x', 'hub/x:', 'hub/x@sha256:short', '-x')), 'is no image reference'),
  setTo('name', fc.oneof(notA('string'), fc.constantFrom('', '-x', '../x', 'a/b', 'x'.repeat(129), 'é')), 'is no session name'),
  setTo('orchestrationId', fc.oneof(notA('string'), nastyString.filter((s) => !/^[0-9a-f-]{36}$/i.test(s))), 'is no UUID'),
  setTo('repository', fc.oneof(notA('string'), fc.constantFrom('', 'r'.repeat(2049))), 'is invalid'),
  setTo('branch', fc.oneof(notA('string'), fc.constantFrom('', 'b'.repeat(256))), 'is invalid'),
  setTo('timeoutSeconds', fc.oneof(notA('number'), fc.constantFrom(0, -1, 1.5, 7 * 24 * 3600 + 1, 1e308)), 'is out of range'),
  setTo('dependsOn', notA('array'), 'is not an array'),
  setTo('dependsOn', fc.array(fc.oneof(notA('string'), nastyString), { minLength: 1, maxLength: 5 }), 'holds no UUIDs'),
  setTo('dependsOn', fc.constant(Array.from({ length: 1001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)), 'has 1001 items'),
  setTo('retries', fc.oneof(notA('number'), fc.constantFrom(-1, 11, 0.5)), 'is out of range'),
  setTo('start', notA('boolean'), 'is not a boolean'),
  unknownKey,
];

/**
 * Well-typed but refused by the registry (nothing is stored): a dependency or an orchestration that
 * does not exist, or text PostgreSQL cannot hold (U+0000).
 */
const refusedSession: Arbitrary<{ value: Record<string, unknown>; why: string }> = fc.oneof(
  fc.tuple(validSession, unknownUuid).map(([s, id]) => ({
    value: { ...s, dependsOn: [...((s['dependsOn'] as string[]) ?? []), id] },
    why: 'depends on an unknown session',
  })),
  fc.tuple(validSession, unknownUuid).map(([s, id]) => ({ value: { ...s, orchestrationId: id }, why: 'names an unknown orchestration' })),
  fc.tuple(validSession, fc.constantFrom('prompt', 'repository', 'branch'), nastyString).map(([s, field, text]) => ({
    value: { ...s, [field]: `${text}\u0000${text}` },
    why: `${field} holds U+0000`,
  })),
);

// ---- sessions ------------------------------------------------------------------------------------

export function createSessionRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const invalid = fc.oneof({ arbitrary: broken(validSession, sessionBreakers), weight: 5 }, { arbitrary: refusedSession, weight: 1 });
  const targets = fc.tuple(jsonBodies(invalid, ctx.bodyLimit, 'dependsOn'), jsonContentType, sometimes(fc.constantFrom(...OTHER_METHODS), 10)).map(
    ([body, contentType, otherMethod]): Target => ({
      route: `${otherMethod ?? 'POST'} /api/v1/sessions`,
      method: otherMethod ?? 'POST',
      path: SESSIONS,
      body,
      contentType,
      expect: { createsNothing: 'rest' },
      note: otherMethod ? `method ${otherMethod}` : '',
    }),
  );
  return envelope(ctx, targets);
}

/** Query strings: known keys with wrong values, unknown and prototype keys, repeats, bad %-encoding, 100 KiB. */
function hostileQuery(keys: string[], ctx: HostileContext): Arbitrary<{ query: string; note: string }> {
  const value = fc.oneof(
    fc.constantFrom('1', '500', '501', '0', '-1', '1.5', '1e3', '0x10', ' 5', 'Infinity', 'NaN', '０５', 'created', 'running', 'RUNNING', 'pending', 'analysis', ''),
    fc.constant(ctx.fixture.orchestrationId),
    unknownUuid,
    nastyString.map(encode).filter((s) => s.length < 2000),
    fc.string({ unit: 'binary', maxLength: 20 }).map(encode),
    badUtf8Encoded,
    fc.constantFrom('%', '%zz', '%u0041', '%%', '%2', '+', '&', '=', '%26limit%3D1'),
  );
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(...keys), weight: 6 },
    { arbitrary: fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', 'limit[]', 'limit[0]', 'a[b][c]', '', '%00', 'Limit'), weight: 2 },
    { arbitrary: nastyString.map(encode).filter((s) => s.length < 200), weight: 1 },
  );
  const pairs = fc.array(fc.tuple(key, value), { maxLength: 6 }).map((list) => ({ query: list.map(([k, v]) => `${k}=${v}`).join('&'), note: 'hostile query' }));
  return fc.oneof(
    { arbitrary: pairs, weight: 12 },
    {
      arbitrary: fc.constantFrom(
        { query: 'limit=1&limit=2', note: 'repeated limit' },
        { query: 'status=created&status=running', note: 'repeated status' },
        { query: '', note: 'empty query' },
        { query: '?', note: 'double ?' },
        { query: '&&&==&', note: 'separators only' },
        { query: 'limit', note: 'key without value' },
        { query: 'a=b=c', note: 'two =' },
        { query: `limit=${'9'.repeat(400)}`, note: 'a 400-digit limit' },
        { query: `cursor=${'A'.repeat(65)}`, note: 'cursor too long' },
        { query: Array.from({ length: 2000 }, (_, i) => `k${i}=v`).join('&'), note: '2000 parameters' },
      ),
      weight: 2,
    },
    {
      arbitrary: fc.constantFrom(8 * 1024, 100 * 1024).map((size) => ({ query: `cursor=${'a'.repeat(size)}`, note: `a ${size / 1024} KiB query string` })),
      weight: 1,
    },
  );
}

export function listSessionsRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const targets = fc.tuple(hostileQuery(['orchestrationId', 'status', 'type', 'limit', 'cursor'], ctx), sometimes(fc.constantFrom('HEAD', 'PUT', 'DELETE'), 10)).map(
    ([{ query, note }, method]): Target => ({
      route: `${method ?? 'GET'} /api/v1/sessions`,
      method: method ?? 'GET',
      path: `${SESSIONS}?${query}`,
      expect: { mayReset: query.length > 16 * 1024 },
      note,
    }),
  );
  return envelope(ctx, targets);
}

/** An id for a path: the fixture's (read-only routes only), a UUID nobody has, or anything but a UUID. */
const idFor = (fixtureId: string, readOnly: boolean): Arbitrary<string> =>
  fc.oneof(
    ...(readOnly ? [{ arbitrary: fc.constant(fixtureId), weight: 3 }] : []),
    { arbitrary: unknownUuid, weight: 3 },
    { arbitrary: malformedIdInPath, weight: 4 },
  );

const SESSION_ACTIONS: { method: string; suffix: string; readOnly: boolean }[] = [
  { method: 'GET', suffix: '', readOnly: true },
  { method: 'GET', suffix: '/logs', readOnly: true },
  { method: 'GET', suffix: '/output', readOnly: true },
  { method: 'HEAD', suffix: '', readOnly: true },
  { method: 'POST', suffix: '/start', readOnly: false },
  { method: 'POST', suffix: '/cancel', readOnly: false },
  { method: 'DELETE', suffix: '', readOnly: false },
  { method: 'PUT', suffix: '', readOnly: false },
  { method: 'PATCH', suffix: '/start', readOnly: false },
  { method: 'GET', suffix: '/start', readOnly: true },
  { method: 'POST', suffix: '/logs', readOnly: false },
  { method: 'GET', suffix: '/logs/x', readOnly: true },
  { method: 'GET', suffix: '/unknown', readOnly: true },
];

export function sessionByIdRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const targets = fc.constantFrom(...SESSION_ACTIONS).chain((action) =>
    fc
      .tuple(idFor(ctx.fixture.sessionId, action.readOnly), sometimes(jsonBodies(broken(validSession, sessionBreakers), ctx.bodyLimit, 'dependsOn'), 15))
      .map(([id, body]): Target => ({
        route: `${action.method} /api/v1/sessions/:id${action.suffix}`,
        method: action.method,
        path: `${SESSIONS}/${id}${action.suffix}`,
        body: body ?? undefined,
        contentType: [['content-type', 'application/json']],
        note: id === ctx.fixture.sessionId ? 'the fixture session' : `id ${JSON.stringify(id.slice(0, 60))}`,
      })),
  );
  return envelope(ctx, targets);
}

/** Output file paths: listed ones, and every way out of the output directory. */
function outputPath(ctx: HostileContext): Arbitrary<string> {
  const listed = ctx.fixture.files.map((file) => file.path);
  return fc.oneof(
    { arbitrary: fc.constantFrom(...listed), weight: 2 },
    {
      arbitrary: fc.constantFrom(
        '../../../../etc/passwd',
        '..%2F..%2F..%2Fetc%2Fpasswd',
        '%2e%2e/%2e%2e/%2e%2e/etc/passwd',
        '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
        '%252e%252e%252fetc%252fpasswd',
        '..%255c..%255cetc',
        '..%5c..%5cetc%5cpasswd',
        '..\\..\\etc\\passwd',
        'sub\\a.txt',
        '....//....//etc/passwd',
        '..;/..;/etc/passwd',
        '%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
        '%ef%bc%8f..%ef%bc%8fetc',
        '/etc/passwd',
        '%2Fetc%2Fpasswd',
        '//etc/passwd',
        '%00',
        'result.txt%00',
        'result.txt%00.png',
        'result.txt/',
        'sub/../result.txt',
        'sub/%2e%2e/result.txt',
        './result.txt',
        'sub//a.txt',
        'SUB/A.TXT',
        'RESULT.TXT',
        'result.txt%20',
        'result.txt.',
        'r%C3%A9sum%C3%A9',
        're%CC%81sume%CC%81',
        '%E2%80%AEtxt.exe',
        `${'a/'.repeat(3000)}x`,
        'x'.repeat(5000),
        '~/.ssh/id_rsa',
        'file:///etc/passwd',
        '%3F.txt',
        '%23.txt',
        '*',
        '',
      ),
      weight: 5,
    },
    { arbitrary: fc.tuple(fc.constantFrom(...listed), badUtf8Encoded).map(([path, bad]) => `${path}${bad}`), weight: 1 },
    {
      arbitrary: fc.array(fc.constantFrom('..', '.', '%2e%2e', '%2E.', 'sub', 'a', '', '%2f', '%5c', '%00'), { minLength: 1, maxLength: 8 }).map((parts) => parts.join('/')),
      weight: 2,
    },
    { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map((s) => s.split('/').map(encode).join('/')), weight: 1 },
  );
}

export function outputFileRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const targets = fc
    .tuple(idFor(ctx.fixture.sessionId, true), outputPath(ctx), sometimes(fc.constantFrom('HEAD', 'POST', 'DELETE', 'PUT'), 10))
    .map(([id, path, method]): Target => ({
      route: `${method ?? 'GET'} /api/v1/sessions/:id/output/files/*path`,
      method: method ?? 'GET',
      path: `${SESSIONS}/${id}/output/files/${path}`,
      expect: { outputFileContents: ctx.fixture.files.map((file) => file.content) },
      note: `${id === ctx.fixture.sessionId ? 'the fixture session' : `id ${JSON.stringify(id.slice(0, 40))}`}, path ${JSON.stringify(path.slice(0, 80))}`,
    }));
  return envelope(ctx, targets, { varyPath: false });
}

// ---- orchestrations ------------------------------------------------------------------------------

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

/** 1-5 sessions, each depending only on sessions declared before it: a valid DAG. */
const validOrchestration = fc
  .tuple(
    fc.string({ minLength: 1, maxLength: 30 }),
    fc.integer({ min: 1, max: 5 }).chain((count) =>
      fc.tuple(
        ...Array.from({ length: count }, (_, i) =>
          fc.record(
            {
              name: fc.constant(NAMES[i]),
              type: sessionType,
              prompt,
              image,
              timeoutSeconds: fc.integer({ min: 1, max: 3600 }),
              retries: fc.integer({ min: 0, max: 10 }),
              dependsOn: fc.subarray(NAMES.slice(0, i)),
            },
            { requiredKeys: ['name', 'prompt'] },
          ),
        ),
      ),
    ),
    fc.option(fc.boolean(), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
  )
  .map(([name, sessions, start, maxParallel]) => {
    const value: Record<string, unknown> = { name, sessions };
    if (start !== undefined) value['start'] = start;
    if (maxParallel !== undefined) value['maxParallel'] = maxParallel;
    return value;
  });

/** Breaks one session of the orchestration (the first), so that the whole request is invalid. */
const inFirstSession = (breaker: Arbitrary<Breaker>): Arbitrary<Breaker> =>
  breaker.map((b) => ({
    why: `sessions.0: ${b.why}`,
    apply: (o) => {
      const sessions = o['sessions'];
      if (Array.isArray(sessions) && sessions.length && typeof sessions[0] === 'object' && sessions[0] !== null) b.apply(sessions[0] as Record<string, unknown>);
      else o['sessions'] = 'broken';
    },
  }));

const orchestrationBreakers: Arbitrary<Breaker>[] = [
  remove('name'),
  setTo('name', fc.oneof(notA('string'), fc.constantFrom('', 'n'.repeat(201))), 'is invalid'),
  remove('sessions'),
  setTo('sessions', fc.oneof(notA('array'), fc.constant([])), 'is no list of sessions'),
  setTo('sessions', fc.array(notA('object'), { minLength: 1, maxLength: 3 }), 'holds no objects'),
  setTo(
    'sessions',
    fc.oneof(
      { arbitrary: fc.constant(Array.from({ length: 1001 }, () => ({}))), weight: 4 },
      { arbitrary: fc.constant(Array.from({ length: 10_001 }, (_, i) => ({ name: `s${i}`, prompt: 'p' }))), weight: 1 },
    ),
    'has 1001 empty or 10001 sessions',
  ),
  setTo('start', notA('boolean'), 'is not a boolean'),
  setTo('maxParallel', fc.oneof(notA('number'), fc.constantFrom(0, -1, 1.5, 10_001)), 'is out of range'),
  unknownKey,
  inFirstSession(remove('name')),
  inFirstSession(remove('prompt')),
  inFirstSession(setTo('name', fc.oneof(notA('string'), fc.constantFrom('', '../x', 'a b', '-a', 'x'.repeat(129))), 'is no session name')),
  inFirstSession(setTo('prompt', fc.oneof(notA('string'), fc.constant('')), 'is invalid')),
  inFirstSession(setTo('dependsOn', fc.oneof(notA('array'), fc.array(notA('string'), { minLength: 1, maxLength: 3 })), 'is invalid')),
  inFirstSession(setTo('retries', fc.constantFrom(-1, 11, '2'), 'is out of range')),
  inFirstSession(setTo('timeoutSeconds', fc.oneof(notA('number'), fc.constant(0)), 'is invalid')),
  inFirstSession(setTo('image', fc.constantFrom('', 'UPPER CASE', 1, 'hub/../busybox', 'HUB/x'), 'is invalid')),
  inFirstSession(unknownKey),
];

/** Well-typed but refused by the registry with nothing stored: unknown, self or cyclic dependencies, duplicate names, U+0000. */
const refusedOrchestration: Arbitrary<{ value: Record<string, unknown>; why: string }> = fc
  .tuple(validOrchestration, fc.constantFrom('unknown', 'self', 'duplicate', 'cycle', 'nul'), nastyString)
  .map(([orchestration, flaw, text]) => {
    const value = structuredClone(orchestration);
    const sessions = value['sessions'] as { name: string; dependsOn?: string[]; prompt: string }[];
    const first = sessions[0];
    const last = sessions[sessions.length - 1];
    if (flaw === 'unknown') first.dependsOn = [...(first.dependsOn ?? []), 'zz-not-declared'];
    if (flaw === 'self') first.dependsOn = [...(first.dependsOn ?? []), first.name];
    if (flaw === 'duplicate') sessions.push({ ...first, dependsOn: [] });
    if (flaw === 'cycle') {
      first.dependsOn = [...(first.dependsOn ?? []), last.name];
      if (last !== first) last.dependsOn = [...(last.dependsOn ?? []), first.name];
    }
    if (flaw === 'nul') last.prompt = `${text}\u0000`;
    return { value, why: `${flaw} dependency, name or text` };
  });

/** An orchestration request nothing can come of: invalid by construction, or refused by the registry. */
export const invalidOrchestration = fc.oneof({ arbitrary: broken(validOrchestration, orchestrationBreakers), weight: 5 }, { arbitrary: refusedOrchestration, weight: 1 });

export function createOrchestrationRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const invalid = invalidOrchestration;
  const targets = fc.tuple(jsonBodies(invalid, ctx.bodyLimit, 'sessions'), jsonContentType, sometimes(fc.constantFrom(...OTHER_METHODS), 10)).map(
    ([body, contentType, otherMethod]): Target => ({
      route: `${otherMethod ?? 'POST'} /api/v1/orchestrations`,
      method: otherMethod ?? 'POST',
      path: ORCHESTRATIONS,
      body,
      contentType,
      expect: { createsNothing: 'rest' },
      note: otherMethod ? `method ${otherMethod}` : '',
    }),
  );
  return envelope(ctx, targets);
}

const ORCHESTRATION_ACTIONS: { method: string; suffix: string; readOnly: boolean }[] = [
  { method: 'GET', suffix: '', readOnly: true },
  { method: 'POST', suffix: '/start', readOnly: false },
  { method: 'POST', suffix: '/cancel', readOnly: false },
  { method: 'DELETE', suffix: '', readOnly: false },
  { method: 'GET', suffix: '/sessions', readOnly: true },
  { method: 'PUT', suffix: '/start', readOnly: false },
];

export function orchestrationRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const list = fc.tuple(hostileQuery(['status', 'limit', 'cursor'], ctx), sometimes(fc.constantFrom('HEAD', 'PUT'), 10)).map(
    ([{ query, note }, method]): Target => ({
      route: `${method ?? 'GET'} /api/v1/orchestrations`,
      method: method ?? 'GET',
      path: `${ORCHESTRATIONS}?${query}`,
      expect: { mayReset: query.length > 16 * 1024 },
      note,
    }),
  );
  const byId = fc.constantFrom(...ORCHESTRATION_ACTIONS).chain((action) =>
    idFor(ctx.fixture.orchestrationId, action.readOnly).map(
      (id): Target => ({
        route: `${action.method} /api/v1/orchestrations/:id${action.suffix}`,
        method: action.method,
        path: `${ORCHESTRATIONS}/${id}${action.suffix}`,
        note: id === ctx.fixture.orchestrationId ? 'the fixture orchestration' : `id ${JSON.stringify(id.slice(0, 60))}`,
      }),
    ),
  );
  return envelope(ctx, fc.oneof({ arbitrary: list, weight: 2 }, { arbitrary: byId, weight: 3 }));
}

// ---- health --------------------------------------------------------------------------------------

const ODD_PATHS = [
  '/health',
  '/health/',
  '/health/LIVE',
  '/health/live/',
  '/health/live/x',
  '/health/%2e%2e/api/v1/sessions',
  '/health/../api/v1/sessions',
  '/health/..%2Fapi%2Fv1%2Fsessions',
  '/',
  '/favicon.ico',
  '/api',
  '/api/v1',
  '/api/v2/sessions',
  '/.env',
  '/%ff',
];

export function healthRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const targets = fc
    .tuple(
      fc.oneof(
        { arbitrary: fc.constant('/health/live'), weight: 8 },
        { arbitrary: fc.constant('/health/ready'), weight: 1 },
        {
          arbitrary: fc.constantFrom(...ODD_PATHS),
          weight: 3,
        },
      ),
      fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH'),
      sometimes(fc.oneof(nastyString.map(encode), fc.constant('a'.repeat(20_000)), nastyNumber.map(String)), 25),
    )
    .map(([path, method, query]): Target => ({
      route: `${method} ${path.startsWith('/health/live') ? '/health/live' : path.startsWith('/health/ready') ? '/health/ready' : '/health (other paths)'}`,
      method,
      path: query === null ? path : `${path}?q=${query}`,
      expect: { mayReset: (query?.length ?? 0) > 16 * 1024 },
      note: query === null ? '' : 'query',
    }));
  return envelope(ctx, targets);
}
