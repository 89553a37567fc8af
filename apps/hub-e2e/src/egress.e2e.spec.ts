import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReadinessReport } from '@hub/contracts';
import { containersOf, expectRemoved } from './support/docker';
import { startTestStack, type TestStack } from './support/test-stack';

// Egress without a bridge network: a session's container keeps loopback only and reaches the
// destinations its policy allows through Hub's proxy (HTTP_PROXY / HTTPS_PROXY at 127.0.0.1:3128, a
// socat bridge to the proxy's unix socket). The destination here is a server in this test process on
// 127.0.0.1, which HUB_EGRESS_RESOLVE points `api.test.invalid` at; every other name is refused.

describe('egress: named destinations through Hub’s proxy, on network none', () => {
  let hub: TestStack;
  let upstream: Server;
  const asked: string[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      asked.push(`${req.method} ${req.url} host=${req.headers.host}`);
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`upstream answers ${req.url}\n`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    hub = await startTestStack({
      HUB_EGRESS: 'hub/test-agent*=api.test.invalid:*,*.allowed.test.invalid',
      HUB_EGRESS_RESOLVE: `api.test.invalid=127.0.0.1:${port}`,
    });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('reaches the allowed destination through the proxy, is refused any other, with only lo in the container', async () => {
    const session = await hub.api.createSession({
      type: 'analysis',
      egress: ['api.test.invalid:*'],
      prompt: [
        'echo "interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" " ")"',
        'ip addr',
        'echo "proxy: $HTTPS_PROXY"',
        // Plain HTTP through the proxy (busybox wget reads http_proxy).
        'wget -q -O - http://api.test.invalid/hello',
        // HTTPS-style: a CONNECT tunnel, the request inside it.
        "printf 'CONNECT api.test.invalid:443 HTTP/1.1\\r\\nHost: api.test.invalid:443\\r\\n\\r\\nGET /tunnel HTTP/1.1\\r\\nHost: api.test.invalid\\r\\nConnection: close\\r\\n\\r\\n' | nc 127.0.0.1 3128",
        'wget -q -O - http://evil.test.invalid/steal || echo "evil refused: $?"',
        'wget -q -O - http://evil.test.invalid/again || true',
        // No way around the proxy: nothing but loopback to send anything on.
        'nc -w 2 1.1.1.1 80 </dev/null || echo "direct refused"',
        'true',
      ].join('\n'),
      start: true,
    });
    const done = await hub.api.waitForStatus(session.id);
    expect(done.status).toBe('completed');

    const log = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text;
    expect(log).toContain('interfaces: lo \n');
    expect(log).not.toMatch(/eth\d|veth/);
    expect(log).toContain('proxy: http://127.0.0.1:3128');
    expect(log).toContain('upstream answers /hello');
    expect(log).toMatch(/HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK[\s\S]*upstream answers \/tunnel/);
    expect(log).toContain('evil refused: 1');
    expect(log).toContain('direct refused');
    // One line for the refused destination, however often it was tried.
    expect(log.match(/\[hub\] egress refused: evil\.test\.invalid:80 — not in this session's allow-list\n/g)).toHaveLength(1);
    expect(asked).toEqual(expect.arrayContaining(['GET /hello host=api.test.invalid', 'GET /tunnel host=api.test.invalid']));

    expect(done.egress?.others).toBeNull();
    const byDestination = Object.fromEntries((done.egress?.destinations ?? []).map((d) => [d.destination, d]));
    expect(byDestination['api.test.invalid:80']).toMatchObject({ allowed: true, reason: null, connections: 1 });
    expect(byDestination['api.test.invalid:80'].bytesIn).toBeGreaterThan(0);
    expect(byDestination['api.test.invalid:443']).toMatchObject({ allowed: true, connections: 1 });
    expect(byDestination['api.test.invalid:443'].bytesOut).toBeGreaterThan(0);
    expect(byDestination['evil.test.invalid:80']).toEqual({
      destination: 'evil.test.invalid:80',
      allowed: false,
      reason: "not in this session's allow-list",
      connections: 2,
      bytesIn: 0,
      bytesOut: 0,
    });

    // The agent's container and its bridge are both gone.
    await expectRemoved(session.id);
    expect(await containersOf(session.id)).toEqual([]);
  });

  it('refuses at creation a session asking for more than its image is allowed, naming the destination', async () => {
    const refused = await hub.api.request('POST', '/api/v1/sessions', {
      prompt: 'true',
      egress: ['api.test.invalid', 'registry.npmjs.org'],
    });

    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe(
      'egress: destination not allowed (HUB_EGRESS): registry.npmjs.org:443 for hub/test-agent:latest, which may reach api.test.invalid:*, *.allowed.test.invalid:443',
    );
    expect((await hub.api.listSessions()).items.filter((s) => s.image === 'hub/test-agent:latest' && s.status === 'created')).toEqual([]);
  });

  it('runs a session that asks for nothing as before: network none, no bridge, no proxy', async () => {
    const session = await hub.api.createSession({
      egress: [],
      prompt: 'echo "proxy=[${HTTPS_PROXY:-}]"; echo "interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" " ")"',
      start: true,
    });
    const done = await hub.api.waitForStatus(session.id);

    expect(done.status).toBe('completed');
    expect(done.egress).toBeNull();
    const log = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text;
    expect(log).toContain('proxy=[]');
    expect(log).toContain('interfaces: lo \n');
    await expectRemoved(session.id);
  });

  it('shows the policy in force on /health/ready', async () => {
    const ready = (await (await fetch(`${hub.api.baseUrl}/health/ready`)).json()) as ReadinessReport;
    const egress = ready.checks.find((check) => check.name.endsWith('egress'));

    expect(egress).toMatchObject({ ok: true });
    expect(egress?.detail).toContain('HUB_EGRESS: hub/test-agent*: api.test.invalid:*, *.allowed.test.invalid:443; every other image: nothing');
    expect(egress?.detail).toMatch(/HUB_EGRESS_RESOLVE: api\.test\.invalid → 127\.0\.0\.1:\d+/);
    expect(ready.checks.find((check) => check.name.endsWith('image hub/egress-bridge:latest'))).toMatchObject({ ok: true });
  });

  it('keeps a running session reaching its destinations when its runner crashes and adopts it: the bridge stays, the proxy listens again', async () => {
    const session = await hub.api.createSession({
      type: 'analysis',
      prompt: 'wget -q -O - http://api.test.invalid/before; sleep 6; wget -q -O - http://api.test.invalid/after-restart',
      start: true,
    });
    await hub.api.waitForStatus(session.id, ['running']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const runner = hub.stack.services['container-runner'];
    await runner.kill({ restartAfterMs: 1_000 });
    await runner.whenRunning({ timeoutMs: 30_000 });
    const done = await hub.api.waitForStatus(session.id, undefined, 60_000);

    expect(done.status).toBe('completed');
    const log = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text;
    expect(log).toContain('upstream answers /before');
    expect(log).toContain('upstream answers /after-restart');
    // What the adopted attempt reached after the restart (its record starts afresh then).
    expect(done.egress?.destinations).toEqual([expect.objectContaining({ destination: 'api.test.invalid:80', allowed: true, connections: 1 })]);
    await expectRemoved(session.id);
  });
});
