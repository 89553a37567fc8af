import { CALLER_HEADER } from '@hub/contracts';
import { callerOf, RpcCall } from './rpc-call';

/** A request's headers holding only the caller's, as given (none when undefined). */
const withHeader = (value?: string) => ({
  headers: { get: (name: string) => (name === CALLER_HEADER && value !== undefined ? value : '') } as never,
});

describe('the caller of a request', () => {
  it("is read from a tenant-scoped request's header, validated", () => {
    const caller = { key: 'ci', tenant: 'team-a', scope: 'read' };
    expect(callerOf('hub.registry.sessions.get', withHeader(JSON.stringify(caller)))).toEqual(caller);
  });

  it('refuses a tenant-scoped request without one, or with one that is not a caller', () => {
    expect(() => callerOf('hub.registry.sessions.list', withHeader())).toThrow('hub.registry.sessions.list needs the Hub-Caller header');
    expect(() => callerOf('hub.registry.sessions.list', { headers: undefined })).toThrow('needs the Hub-Caller header');
    expect(() => callerOf('hub.registry.sessions.list', withHeader('{'))).toThrow('the Hub-Caller header is not JSON');
    expect(() => callerOf('hub.registry.sessions.list', withHeader(JSON.stringify({ key: 'ci', tenant: 'Team A', scope: 'read' })))).toThrow(
      'the Hub-Caller header is not a caller',
    );
    expect(() => callerOf('hub.registry.sessions.list', withHeader(JSON.stringify({ key: 'ci', tenant: 'a', scope: 'root' })))).toThrow(
      'not a caller',
    );
  });

  it("is none for a service's own requests and health probes, and asking for it there is a programming error", () => {
    expect(callerOf('hub.registry.sessions.claim', withHeader(JSON.stringify({ key: 'x', tenant: 'a', scope: 'admin' })))).toBeNull();
    expect(callerOf('hub.registry.health', withHeader())).toBeNull();
    expect(() => new RpcCall('hub.registry.sessions.claim', null).caller).toThrow('hub.registry.sessions.claim carries no caller');
  });
});
