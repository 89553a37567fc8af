import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@hub/config';
import { parseEgressDestination, type EgressDestination } from '@hub/contracts';
import { decideEgress, NOT_ALLOWED } from './egress-decision';
import { parseEgressOverrides } from './egress-overrides';
import { EgressProxy, type EgressListener } from './egress-proxy';

// The proxy's decisions, on a real unix socket but with DNS and the outside world replaced: a fake
// resolver answers, and the function that would open a connection only records that it was called.
// Nothing here sends a packet anywhere but over the socket.

const allow = (...written: string[]): EgressDestination[] =>
  written.map((w) => {
    const parsed = parseEgressDestination(w);
    if (!parsed.ok) throw new Error(parsed.message);
    return parsed.destination;
  });

/** A resolver that answers from a table, and counts what it was asked. */
function fakeDns(table: Record<string, string[]>) {
  const asked: string[] = [];
  const lookup = async (host: string) => {
    asked.push(host);
    const addresses = table[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address }));
  };
  return { lookup, asked };
}

/** Sends one request on a fresh connection to the socket; resolves with what came back (until the proxy closes, or the head of a tunnel). */
function ask(socketPath: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (/^HTTP\/1\.1 200 Connection Established\r\n\r\n/.test(answer)) socket.destroy();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(request);
  });
}
const connectTo = (authority: string) => `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
const get = (url: string) => `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n\r\n`;

describe('EgressProxy decisions', () => {
  let dir: string;
  let listener: EgressListener | undefined;
  const dialled: string[] = [];
  const notes: string[] = [];

  /** Records the connection it is asked for, and fails it as an unreachable host would (nothing is sent). */
  const recordingConnect = (address: string, port: number) => {
    dialled.push(`${address}:${port}`);
    const socket = new Socket();
    setImmediate(() => socket.destroy(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    return socket;
  };

  async function open(allowList: EgressDestination[], dns: ReturnType<typeof fakeDns>, resolve = ''): Promise<string> {
    const proxy = new EgressProxy({
      overrides: parseEgressOverrides(resolve),
      lookup: dns.lookup,
      connect: recordingConnect,
      logger: createLogger('egress-proxy-test', 'silent'),
    });
    const socketPath = join(dir, 'session', 'egress', 'proxy.sock');
    listener = await proxy.listen({
      sessionId: 'session-1',
      socketPath,
      owner: [process.getuid!(), process.getgid!()],
      allowList,
      onRefused: (line) => notes.push(line),
    });
    return socketPath;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hub-egress-proxy-'));
    dialled.length = 0;
    notes.length = 0;
  });

  afterEach(async () => {
    await listener?.close();
    listener = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['loopback.test.invalid', '127.0.0.1', 'resolves to 127.0.0.1, a loopback address'],
    ['metadata.test.invalid', '169.254.169.254', 'resolves to 169.254.169.254, the cloud metadata address'],
    ['lan.test.invalid', '10.0.0.1', 'resolves to 10.0.0.1, a private address'],
  ])('refuses %s, which resolves to %s, before any connection is attempted', async (name, address, reason) => {
    const dns = fakeDns({ [name]: [address] });
    const socketPath = await open(allow(`${name}:*`), dns);

    const tunnelled = await ask(socketPath, connectTo(`${name}:443`));
    const fetched = await ask(socketPath, get(`http://${name}/latest/meta-data/`));

    expect(tunnelled).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(tunnelled).toContain(`Hub egress refused ${name}:443: ${reason}`);
    expect(fetched).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(fetched).toContain(`Hub egress refused ${name}:80: ${reason}`);
    // The proxy's own record: refused, and never dialled.
    expect(dialled).toEqual([]);
    expect(listener!.tally.summary()).toEqual({
      destinations: [
        { destination: `${name}:443`, allowed: false, reason, connections: 1, bytesIn: 0, bytesOut: 0 },
        { destination: `${name}:80`, allowed: false, reason, connections: 1, bytesIn: 0, bytesOut: 0 },
      ],
      others: null,
    });
  });

  it('refuses an address asked for directly, and a name with one private address among public ones', async () => {
    const dns = fakeDns({ 'mixed.test.invalid': ['93.184.216.34', '192.168.0.10'] });
    const socketPath = await open(allow('mixed.test.invalid', '10.0.0.1'), dns);

    expect(await ask(socketPath, connectTo('mixed.test.invalid:443'))).toContain('resolves to 192.168.0.10, a private address');
    expect(await ask(socketPath, connectTo('10.0.0.1:443'))).toContain('Hub egress refused 10.0.0.1:443: a private address');
    expect(dialled).toEqual([]);
  });

  it("refuses a destination off the session's allow-list without resolving it, and tells the log once per destination", async () => {
    const dns = fakeDns({ 'evil.example': ['93.184.216.34'] });
    const socketPath = await open(allow('api.test.invalid'), dns);

    await ask(socketPath, connectTo('evil.example:443'));
    await ask(socketPath, connectTo('evil.example:443'));
    await ask(socketPath, connectTo('api.test.invalid:8443'));
    await ask(socketPath, get('http://api.test.invalid/'));

    expect(dns.asked).toEqual([]);
    expect(dialled).toEqual([]);
    expect(notes).toEqual([
      "[hub] egress refused: evil.example:443 — not in this session's allow-list",
      "[hub] egress refused: api.test.invalid:8443 — not in this session's allow-list",
      "[hub] egress refused: api.test.invalid:80 — not in this session's allow-list",
    ]);
    expect(listener!.tally.summary().destinations[0]).toMatchObject({ destination: 'evil.example:443', allowed: false, connections: 2 });
  });

  it('connects to the address it checked, resolving the name once (a second DNS answer cannot redirect it)', async () => {
    let answers = 0;
    const lookup = async () => [{ address: answers++ === 0 ? '93.184.216.34' : '10.0.0.1' }];
    const proxy = new EgressProxy({ overrides: new Map(), lookup, connect: recordingConnect, logger: createLogger('egress-proxy-test', 'silent') });
    const socketPath = join(dir, 'egress', 'proxy.sock');
    listener = await proxy.listen({ sessionId: 's', socketPath, owner: [process.getuid!(), process.getgid!()], allowList: allow('api.example.com') });

    const answer = await ask(socketPath, connectTo('api.example.com:443'));

    expect(dialled).toEqual(['93.184.216.34:443']);
    expect(answers).toBe(1);
    // The destination refused the connection: said so, as a gateway would.
    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*ECONNREFUSED/);
    expect(listener.tally.summary().destinations).toEqual([
      { destination: 'api.example.com:443', allowed: true, reason: null, connections: 1, bytesIn: 0, bytesOut: 0 },
    ]);
  });

  it('reaches a loopback address only for a name HUB_EGRESS_RESOLVE points there, and only when the name is allowed', async () => {
    const dns = fakeDns({});
    const socketPath = await open(allow('api.test.invalid:*'), dns, 'api.test.invalid=127.0.0.1:18080,other.test.invalid=127.0.0.1');

    await ask(socketPath, get('http://api.test.invalid/v1/messages'));
    const other = await ask(socketPath, connectTo('other.test.invalid:443'));

    expect(dialled).toEqual(['127.0.0.1:18080']);
    expect(other).toContain(NOT_ALLOWED);
    expect(dns.asked).toEqual([]);
  });

  it('answers 400 to what is not a proxy request, and makes its socket for its owner only', async () => {
    const socketPath = await open(allow('api.test.invalid'), fakeDns({}));

    expect(await ask(socketPath, 'GET /relative HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await ask(socketPath, get('https://api.test.invalid/'))).toMatch(/^HTTP\/1\.1 400 /);
    expect(await ask(socketPath, 'CONNECT nowhere HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    expect((await stat(join(socketPath, '..'))).mode & 0o777).toBe(0o700);

    await listener!.close();
    listener = undefined;
    await expect(stat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a socket path longer than a unix socket may have, naming HUB_DATA_DIR', async () => {
    const proxy = new EgressProxy({ overrides: new Map(), logger: createLogger('egress-proxy-test', 'silent') });
    await expect(
      proxy.listen({ sessionId: 's', socketPath: join(dir, 'x'.repeat(120), 'proxy.sock'), owner: [0, 0], allowList: [] }),
    ).rejects.toThrow(/longer than the 107 bytes .* HUB_DATA_DIR/);
  });
});

describe('decideEgress', () => {
  const overrides = new Map();

  it('says why a name that does not resolve is refused', async () => {
    const { lookup } = fakeDns({});
    expect(await decideEgress({ host: 'gone.test.invalid', port: 443 }, allow('gone.test.invalid'), overrides, lookup)).toEqual({
      allowed: false,
      reason: 'its name does not resolve (ENOTFOUND)',
    });
  });

  it('matches the host in any case, and with a trailing dot, against the allow-list', async () => {
    const { lookup } = fakeDns({ 'api.example.com': ['93.184.216.34'] });
    expect(await decideEgress({ host: 'API.Example.com.', port: 443 }, allow('api.example.com'), overrides, lookup)).toEqual({
      allowed: true,
      address: '93.184.216.34',
      port: 443,
    });
  });
});
