import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { HubLogger } from '@hub/config';
import type { EgressDestination } from '@hub/contracts';
import { decideEgress, type EgressDecision, type EgressLookup, type EgressRequest, normalHost, systemLookup } from './egress-decision';
import { type EgressConnect, forward, refuse, refuseSocket, tunnel } from './egress-forwarding';
import type { EgressOverride } from './egress-overrides';
import { EgressTally } from './egress-tally';

/**
 * Unix socket paths are limited to 108 bytes (107 and the terminating NUL) on Linux: a longer one
 * cannot be listened on.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface EgressProxyOptions {
  /** HUB_EGRESS_RESOLVE: names connected to a given address, without DNS. */
  overrides: ReadonlyMap<string, EgressOverride>;
  lookup?: EgressLookup;
  connect?: EgressConnect;
  logger: HubLogger;
}

export interface EgressSessionOptions {
  sessionId: string;
  /** Where the session's socket is made (its directory is made 0700, the socket 0600, both the owner's). */
  socketPath: string;
  /** uid and gid of the one who connects (the bridge helper's user). */
  owner: [number, number];
  allowList: readonly EgressDestination[];
  /** Told the first time each destination is refused, with a line for the session's log. */
  onRefused?: (line: string) => void;
}

/** One session's door into the proxy. */
export interface EgressListener {
  readonly socketPath: string;
  /** What the session reached, or tried to. */
  readonly tally: EgressTally;
  /** Stops listening, closes the session's connections, removes the socket. */
  close(): Promise<void>;
}

interface SessionContext extends EgressSessionOptions {
  tally: EgressTally;
  log: HubLogger;
}

/**
 * Hub's egress proxy: one per runner process, one unix socket per session (the path tells whose
 * policy and record apply), HTTP CONNECT and plain HTTP in absolute form. Every connection is decided
 * before anything is sent (egress-decision.ts) and goes to the address checked, never to the name
 * again; a refusal is answered 403 with the reason, recorded, and told to the session's log once per
 * destination.
 *
 * Written on Node's own HTTP server (its parser reads the requests; this file decides and forwards)
 * rather than on a proxy library, because none that was checked fits: `proxy-chain` (Apify, the most
 * complete) is ESM-only from 3.0 (this runner is CommonJS), and its 2.x line drops every connection
 * that has no remote address (so every unix-socket connection), leaks outbound sockets when a client
 * leaves early (apify/proxy-chain#670, fixed only in 3.x), and counts bytes per client connection,
 * not per destination; `proxy` (TooTallNate) is ESM-only and connects by name (a second DNS answer
 * could point elsewhere); `http-proxy` is a reverse proxy without CONNECT, unmaintained since 2020.
 */
export class EgressProxy {
  private readonly http: HttpServer;
  private readonly sessions = new WeakMap<Socket, SessionContext>();
  private readonly listeners = new Set<EgressListener>();
  private readonly lookup: EgressLookup;
  private readonly connect: EgressConnect;

  constructor(private readonly options: EgressProxyOptions) {
    this.lookup = options.lookup ?? systemLookup;
    this.connect = options.connect ?? ((address, port) => netConnect({ host: address, port }));
    this.http = createHttpServer();
    // Whatever goes wrong with one connection ends that connection (502), never the runner.
    this.http.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.onConnect(req, socket, head).catch((error: Error) => this.failed(error, () => refuseSocket(socket, 502, 'Hub egress: the proxy failed'))),
    );
    this.http.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.onRequest(req, res).catch((error: Error) => this.failed(error, () => (res.headersSent ? res.destroy() : refuse(res, 502, 'Hub egress: the proxy failed')))),
    );
    this.http.on('upgrade', (_req: IncomingMessage, socket: Socket) => refuseSocket(socket, 501, 'Hub egress: protocol upgrades are not proxied; use CONNECT'));
    this.http.on('clientError', (_error: Error, socket: Socket) => refuseSocket(socket, 400, 'Hub egress: not an HTTP proxy request'));
  }

  /** Listens on the session's socket. */
  async listen(session: EgressSessionOptions): Promise<EgressListener> {
    if (Buffer.byteLength(session.socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(
        `the egress socket path ${session.socketPath} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket path may have: set HUB_DATA_DIR to a shorter directory`,
      );
    }
    const [uid, gid] = session.owner;
    const dir = dirname(session.socketPath);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await chown(dir, uid, gid);
    await rm(session.socketPath, { force: true });
    const context: SessionContext = { ...session, tally: new EgressTally(), log: this.options.logger.child({ sessionId: session.sessionId }) };
    const clients = new Set<Socket>();
    // Half-open as HTTP servers' own sockets are: a client that sends its request and shuts its side
    // (nc, `printf … | nc`) still gets the answer.
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      clients.add(socket);
      socket.once('close', () => clients.delete(socket));
      this.sessions.set(socket, context);
      this.http.emit('connection', socket);
    });
    await listenOn(server, session.socketPath);
    await chmod(session.socketPath, 0o600);
    await chown(session.socketPath, uid, gid);
    const listener: EgressListener = {
      socketPath: session.socketPath,
      tally: context.tally,
      close: async () => {
        this.listeners.delete(listener);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of clients) socket.destroy();
        await closed;
        await rm(session.socketPath, { force: true });
      },
    };
    this.listeners.add(listener);
    return listener;
  }

  /** Closes every session's socket (the runner is stopping). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners].map((listener) => listener.close()));
  }

  private async onConnect(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    // What the client sends after its CONNECT waits for the tunnel (or the refusal).
    client.pause();
    const session = this.sessions.get(client);
    const target = parseAuthority(req.url ?? '');
    if (!session || !target) return refuseSocket(client, 400, 'Hub egress: CONNECT needs host:port');
    const decision = await this.decide(session, target);
    if (!decision.allowed) return refuseSocket(client, 403, `Hub egress refused ${authorityOf(target)}: ${decision.reason}`);
    const upstream = this.connect(decision.address, decision.port);
    session.tally.opened(authorityOf(target), upstream);
    tunnel(client, head, upstream, (status, message) => refuseSocket(client, status, message));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = this.sessions.get(req.socket);
    const url = absoluteHttpUrl(req.url ?? '');
    if (!session || !url) {
      return refuse(res, 400, "Hub egress: this is Hub's egress proxy: ask for an absolute http:// URL, or CONNECT host:port for https");
    }
    const target = { host: normalHost(url.hostname), port: Number(url.port || 80) };
    const decision = await this.decide(session, target);
    if (!decision.allowed) return refuse(res, 403, `Hub egress refused ${authorityOf(target)}: ${decision.reason}`);
    forward(req, res, url, () => this.connect(decision.address, decision.port), (socket) => session.tally.opened(authorityOf(target), socket));
  }

  private failed(error: Error, answer: () => void): void {
    this.options.logger.error({ err: error.message }, 'egress proxy: a connection failed');
    answer();
  }

  /** The decision on a connection; a refusal is recorded, and told to the session's log the first time. */
  private async decide(session: SessionContext, target: EgressRequest): Promise<EgressDecision> {
    const decision = await decideEgress(target, session.allowList, this.options.overrides, this.lookup);
    const destination = authorityOf(target);
    if (decision.allowed) {
      session.log.debug({ destination, address: decision.address }, 'egress allowed');
      return decision;
    }
    session.log.info({ destination, reason: decision.reason }, 'egress refused');
    if (session.tally.refused(destination, decision.reason)) session.onRefused?.(`[hub] egress refused: ${destination} — ${decision.reason}`);
    return decision;
  }
}

/** `host:port` of a CONNECT (`[v6]:port` too), or null. */
function parseAuthority(authority: string): EgressRequest | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+):(\d{1,5})$/.exec(authority);
  const port = Number(match?.[2]);
  return match && port >= 1 && port <= 65535 ? { host: normalHost(match[1]), port } : null;
}

function absoluteHttpUrl(target: string): URL | null {
  if (!/^http:\/\//i.test(target)) return null;
  try {
    return new URL(target);
  } catch {
    return null;
  }
}

const authorityOf = (target: EgressRequest) => `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
