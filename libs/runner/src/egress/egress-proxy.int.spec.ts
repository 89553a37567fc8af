import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@hub/config';
import { parseEgressDestination, type EgressDestination } from '@hub/contracts';
import { parseEgressOverrides } from './egress-overrides';
import { EgressProxy, type EgressListener } from './egress-proxy';

// The proxy over a real unix socket, with the real resolver and real connections, to a test
// upstream on 127.0.0.1 that HUB_EGRESS_RESOLVE points `api.test.invalid` at: plain HTTP and CONNECT
// go through and are counted; other names are refused. Only loopback is ever dialled.

const allow = (...written: string[]): EgressDestination[] =>
  written.map((w) => {
    const parsed = parseEgressDestination(w);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.destination;
  });

describe('EgressProxy, end to end on this machine', () => {
  let dir: string;
  let upstream: Server;
  let port: number;
  let listener: EgressListener;
  let socketPath: string;
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes' });
        res.end(`upstream says hello to ${req.method} ${req.url}${body ? ` with ${body}` : ''}\n`);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'hub-egress-int-'));
    socketPath = join(dir, 'egress', 'proxy.sock');
    const proxy = new EgressProxy({
      overrides: parseEgressOverrides(`api.test.invalid=127.0.0.1:${port}`),
      logger: createLogger('egress-int-test', 'silent'),
    });
    listener = await proxy.listen({
      sessionId: 'session-int',
      socketPath,
      owner: [process.getuid!(), process.getgid!()],
      allowList: allow('api.test.invalid:*', 'localhost:*'),
    });
  });

  afterAll(async () => {
    await listener?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('forwards a plain HTTP request to the address it was pointed at, as the upstream would be asked directly', async () => {
    const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = request(
        {
          socketPath,
          method: 'POST',
          path: 'http://api.test.invalid/v1/messages?stream=false',
          headers: { host: 'api.test.invalid', 'proxy-authorization': 'Basic c2VjcmV0', 'content-type': 'application/json', connection: 'close' },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end('{"hi":1}');
    });

    expect(answer).toMatchObject({ status: 200, headers: { 'x-upstream': 'yes' }, body: 'upstream says hello to POST /v1/messages?stream=false with {"hi":1}\n' });
    const received = seen.at(-1)!;
    expect(received.headers.host).toBe('api.test.invalid');
    expect(received.headers).not.toHaveProperty('proxy-authorization');
  });

  it('tunnels CONNECT to it, bytes untouched both ways, and counts them', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath);
      let text = '';
      let asked = false;
      socket.on('data', (chunk) => {
        text += chunk.toString('utf8');
        if (!asked && text.includes('\r\n\r\n')) {
          asked = true;
          socket.write('GET /through-the-tunnel HTTP/1.1\r\nHost: api.test.invalid\r\nConnection: close\r\n\r\n');
        }
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write('CONNECT api.test.invalid:443 HTTP/1.1\r\nHost: api.test.invalid:443\r\n\r\n');
    });

    expect(answer).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    expect(answer).toContain('upstream says hello to GET /through-the-tunnel');
    const tunnel = listener.tally.summary().destinations.find((d) => d.destination === 'api.test.invalid:443')!;
    expect(tunnel).toMatchObject({ allowed: true, connections: 1 });
    expect(tunnel.bytesOut).toBeGreaterThan(50);
    expect(tunnel.bytesIn).toBeGreaterThan(100);
  });

  it('answers a client that sends CONNECT and its request at once and then shuts its side (as `printf … | nc` does)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ path: socketPath, allowHalfOpen: true });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.end(
        'CONNECT api.test.invalid:8443 HTTP/1.1\r\nHost: api.test.invalid:8443\r\n\r\n' +
          'GET /all-at-once HTTP/1.1\r\nHost: api.test.invalid\r\nConnection: close\r\n\r\n',
      );
    });

    expect(answer).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK\r\n[\s\S]*upstream says hello to GET \/all-at-once/);
  });

  it('refuses localhost, though allowed by name: it resolves to loopback, and nothing points it there', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(socketPath);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(`CONNECT localhost:${port} HTTP/1.1\r\n\r\n`);
    });

    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(answer).toMatch(/resolves to (127\.0\.0\.1|::1), a loopback address/);
  });

  it('refuses a name off the allow-list, and lists every destination with its traffic', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ socketPath, path: 'http://elsewhere.test.invalid/', headers: { host: 'elsewhere.test.invalid' } }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      });
      req.on('error', reject);
      req.end();
    });

    expect(answer).toBe("403 Hub egress refused elsewhere.test.invalid:80: not in this session's allow-list\n");
    const summary = listener.tally.summary();
    expect(summary.destinations.map((d) => [d.destination, d.allowed, d.connections])).toEqual([
      ['api.test.invalid:80', true, 1],
      ['api.test.invalid:443', true, 1],
      ['api.test.invalid:8443', true, 1],
      [`localhost:${port}`, false, 1],
      ['elsewhere.test.invalid:80', false, 1],
    ]);
    expect(summary.destinations[0].bytesIn).toBeGreaterThan(0);
  });
});
