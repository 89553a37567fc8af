import { ALLOWED_TRANSITIONS, isTerminal, SESSION_STATUSES } from './sessions/session-status';
import {
  CreateSessionRequestSchema,
  ListSessionsQuerySchema,
  MAX_CONTEXT_JSON_BYTES,
  MAX_CONTEXT_LENGTH,
  MAX_PROMPT_JSON_BYTES,
  MAX_PROMPT_LENGTH,
} from './sessions/session.schemas';
import { InvalidEventError, parseEventEnvelope, validateEventPayload } from './events/event-validation';
import { parseOrBadRequest } from './validation';
import { HubError } from './rpc/rpc-result';
import { requiresCaller, RPC_CATALOG, type RpcSubject } from './rpc/rpc-catalog';
import { scopeAllows, type Scope } from './auth/caller';

describe('session statuses', () => {
  it('leave a terminal status only to wait again (a re-run)', () => {
    for (const status of SESSION_STATUSES.filter(isTerminal)) expect(ALLOWED_TRANSITIONS[status]).toEqual(['waiting']);
  });

  it('reach a terminal status from every non-terminal one', () => {
    const reachesEnd = (status: (typeof SESSION_STATUSES)[number], seen = new Set<string>()): boolean =>
      isTerminal(status) ||
      ALLOWED_TRANSITIONS[status].some((next) => !seen.has(next) && reachesEnd(next, new Set([...seen, status])));
    for (const status of SESSION_STATUSES) expect({ status, ends: reachesEnd(status) }).toEqual({ status, ends: true });
  });

  it('follow the lifecycle created → waiting → ready → starting → running → completed', () => {
    const path = ['created', 'waiting', 'ready', 'starting', 'running', 'completed'] as const;
    for (let i = 0; i < path.length - 1; i++) expect(ALLOWED_TRANSITIONS[path[i]]).toContain(path[i + 1]);
  });
});

describe('request validation', () => {
  it('names every bad field and why', () => {
    const error = (() => {
      try {
        parseOrBadRequest(CreateSessionRequestSchema, { timeoutSeconds: 0, colour: 'red' }, 'request');
      } catch (e) {
        return e as HubError;
      }
      throw new Error('accepted a bad request');
    })();
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('prompt: is required');
    expect(error.message).toContain('timeoutSeconds');
    expect(error.message).toContain('colour: is not a known field');
  });

  it('bounds a prompt by its length and by its size on the wire, so a claim answer always fits one NATS message', () => {
    const parse = (prompt: string) => CreateSessionRequestSchema.safeParse({ prompt });
    expect(parse('x'.repeat(MAX_PROMPT_LENGTH)).success).toBe(true);
    expect(parse('x'.repeat(MAX_PROMPT_LENGTH + 1)).success).toBe(false);
    // 150,000 control characters are within the length but 6 bytes each once JSON-encoded (900 KB).
    const escaped = parse('\u0001'.repeat(150_000));
    expect(escaped.success).toBe(false);
    expect(JSON.stringify(escaped.error?.issues[0]?.message)).toContain(`${MAX_PROMPT_JSON_BYTES} bytes once JSON-encoded`);
  });

  it('bounds a context apart from the prompt, by length and by size on the wire, naming the field', () => {
    const parse = (context: string) => CreateSessionRequestSchema.safeParse({ prompt: 'true', context });
    expect(parse('x'.repeat(MAX_CONTEXT_LENGTH)).success).toBe(true);
    const long = parse('x'.repeat(MAX_CONTEXT_LENGTH + 1));
    expect(long.success).toBe(false);
    expect(long.error?.issues[0]?.path).toEqual(['context']);
    const escaped = parse('\u0001'.repeat(20_000));
    expect(escaped.success).toBe(false);
    expect(escaped.error?.issues[0]?.message).toContain(`${MAX_CONTEXT_JSON_BYTES} bytes once JSON-encoded`);
  });

  it('defaults the session type and accepts a minimal request', () => {
    expect(CreateSessionRequestSchema.parse({ prompt: 'echo hi' })).toEqual({ prompt: 'echo hi', type: 'implementation' });
  });

  it('caps the page size at 500 and reads query strings as numbers', () => {
    expect(ListSessionsQuerySchema.parse({ limit: '500' }).limit).toBe(500);
    expect(ListSessionsQuerySchema.safeParse({ limit: '501' }).success).toBe(false);
  });
});

describe('event validation', () => {
  const envelope = {
    id: 'e1',
    subject: 'deps.resolved',
    occurredAt: new Date().toISOString(),
    data: { sessionId: '7f1c2a4e-8d9b-4c3a-9e2f-1a2b3c4d5e6f' },
  };

  it('accepts a well-formed event', () => {
    expect(parseEventEnvelope('deps.resolved', envelope).data).toEqual(envelope.data);
  });

  it('refuses a payload that does not match its subject, an unknown subject, or a mislabelled envelope', () => {
    expect(() => validateEventPayload('container.exited', { sessionId: 'x' })).toThrow(InvalidEventError);
    expect(() => parseEventEnvelope('deps.unknown', envelope)).toThrow(/unknown subject/);
    expect(() => parseEventEnvelope('deps.failed', envelope)).toThrow(/envelope names subject deps.resolved/);
    expect(() => parseEventEnvelope('deps.resolved', { ...envelope, data: {} })).toThrow(InvalidEventError);
  });
});

describe('who asks (the caller)', () => {
  it("is required on every subject the gateway calls but anonymous ones (health probes), and no subject is shared by the gateway and a service", () => {
    for (const subject of Object.keys(RPC_CATALOG) as RpcSubject[]) {
      const { calledBy, anonymous } = RPC_CATALOG[subject] as { calledBy: readonly string[]; anonymous?: true };
      if (subject.endsWith('.health')) expect({ subject, anonymous }).toEqual({ subject, anonymous: true });
      if (calledBy.includes('gateway') && !anonymous) {
        expect({ subject, calledBy }).toEqual({ subject, calledBy: ['gateway'] });
        expect(requiresCaller(subject)).toBe(true);
      } else {
        expect({ subject, requires: requiresCaller(subject) }).toEqual({ subject, requires: false });
      }
    }
  });

  it('allows each scope what it names and less', () => {
    expect(['read', 'write', 'admin'].map((scope) => scopeAllows(scope as Scope, 'write'))).toEqual([false, true, true]);
    expect(scopeAllows('read', 'read')).toBe(true);
    expect(scopeAllows('write', 'admin')).toBe(false);
  });
});
