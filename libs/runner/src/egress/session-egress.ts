import { join } from 'node:path';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import { type EgressDestination, type EgressTraffic, formatEgressDestination, parseEgressDestination, type SessionSpec } from '@hub/contracts';
import { LogNotes } from '../logs/log-notes';
import type { ContainerEngine, HelperContainer } from '../ports/container-engine.port';
import { CONTAINER_ENGINE, RUNNER_SETTINGS, type RunnerSettings } from '../runner.tokens';
import { agentIdsOf } from '../workspace/attempt-files';
import { EgressProxy, type EgressListener } from './egress-proxy';

/** What the bridge helper is labelled (hub.helper), and the label that holds the allow-list it serves. */
export const EGRESS_BRIDGE_PURPOSE = 'egress-bridge';
export const LABEL_EGRESS = 'hub.egress';
/** Where the agent finds the proxy: the bridge's forwarder, on the loopback they share. */
export const EGRESS_PROXY_URL = 'http://127.0.0.1:3128';
/** Where the bridge finds the session's proxy socket (its directory is mounted there, read-only). */
const BRIDGE_SOCKET_DIR = '/hub/egress';
const SOCKET_NAME = 'proxy.sock';
/**
 * `-d -d`: it says when it listens. `-t 30`: once one side of a connection has shut its half (a client
 * that sent its whole request), the answer may take 30 s to come (socat's default is half a second).
 */
const BRIDGE_COMMAND = ['/bin/socat', '-d', '-d', '-t', '30', 'TCP-LISTEN:3128,bind=127.0.0.1,reuseaddr,fork', `UNIX-CONNECT:${BRIDGE_SOCKET_DIR}/${SOCKET_NAME}`];
/** socat says so once it listens (`-d -d`). */
const LISTENING = /listening on/;
const BRIDGE_READY_MS = 10_000;
const BRIDGE_LIMITS = { memoryBytes: 64 * 1024 * 1024, nanoCpus: 500_000_000, pids: 256 };
const BRIDGE_FILE_SIZE_BYTES = 1024 * 1024;

/** A session attempt's way out: the container it shares a network namespace with, its proxy settings, its record. */
export interface EgressAttempt {
  /** The agent's container joins the bridge's network namespace (loopback only). */
  readonly network: string;
  /** HTTPS_PROXY and friends, pointing at the bridge's forwarder. */
  readonly env: Record<string, string>;
  /** Refusals, for the session's log. */
  readonly notes: LogNotes;
  /** What it reached, or tried to, so far. */
  traffic(): EgressTraffic;
  /** Closes its proxy socket and removes its bridge (after the agent's container is gone). */
  close(log: HubLogger): Promise<void>;
}

/**
 * A session's egress, when its policy allows it any destination: the proxy listens on a unix socket
 * of its own (under the session's directory), a hardened helper container (network none, read-only,
 * no capabilities) forwards 127.0.0.1:3128 in its network namespace to that socket, and the agent's
 * container joins that namespace (`container:<bridge>`), so it has loopback only, and the proxy
 * through it. The socket is mounted into the bridge only, never into the agent's container. A
 * session allowed nothing gets none of this: network none, as ever.
 */
@Injectable()
export class SessionEgress implements OnApplicationShutdown {
  constructor(
    private readonly proxy: EgressProxy,
    @Inject(CONTAINER_ENGINE) private readonly engine: ContainerEngine,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  /** The destinations this session may reach on this runner: its ask (or its image's allowance), within what this runner allows its image. */
  allowListOf(spec: SessionSpec, log: HubLogger): EgressDestination[] {
    const { allowed, refused } = this.settings.egress.policy.sessionAllows(spec.image, spec.repository, spec.egress);
    if (refused.length) log.warn({ refused }, "egress: destinations the session asked for are not allowed its image on this runner (HUB_EGRESS); they stay closed");
    return allowed;
  }

  /** Opens the session's egress, or null when it may reach nothing. */
  async open(spec: SessionSpec, log: HubLogger): Promise<EgressAttempt | null> {
    const allowList = this.allowListOf(spec, log);
    if (!allowList.length) return null;
    const image = this.settings.egress.bridgeImage;
    if ((await this.engine.imageStatus(image)) === 'missing') {
      throw new Error(
        `the egress bridge image ${image} is not on the runner's Docker engine (the session may reach ${allowList.map(formatEgressDestination).join(', ')}): run \`bash images/egress-bridge/build.sh\``,
      );
    }
    const notes = new LogNotes();
    const listener = await this.listen(spec.sessionId, allowList, notes);
    let bridgeId: string;
    try {
      bridgeId = await this.startBridge(spec.sessionId, allowList, listener.socketPath);
    } catch (error) {
      await listener.close();
      throw error;
    }
    log.info({ bridgeId, egress: allowList.map(formatEgressDestination) }, 'egress bridge started');
    return this.attempt(bridgeId, listener, notes);
  }

  /**
   * The egress of a session whose container this runner adopts after a restart: its proxy socket is
   * listened on again with the allow-list its bridge was started for (its record starts afresh).
   */
  async reopen(sessionId: string, bridge: HelperContainer, log: HubLogger): Promise<EgressAttempt> {
    const allowList = (bridge.labels[LABEL_EGRESS] ?? '')
      .split(',')
      .map(parseEgressDestination)
      .flatMap((parsed) => (parsed.ok ? [parsed.destination] : []));
    const notes = new LogNotes();
    const listener = await this.listen(sessionId, allowList, notes);
    log.info({ bridgeId: bridge.containerId, egress: allowList.map(formatEgressDestination) }, 'egress proxy listening again for an adopted session');
    return this.attempt(bridge.containerId, listener, notes);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.proxy.closeAll();
  }

  private listen(sessionId: string, allowList: EgressDestination[], notes: LogNotes): Promise<EgressListener> {
    return this.proxy.listen({
      sessionId,
      socketPath: join(this.settings.dataDir, 'sessions', sessionId, 'egress', SOCKET_NAME),
      owner: agentIdsOf(this.settings.containerUser),
      allowList,
      onRefused: (line) => notes.add(line),
    });
  }

  private async startBridge(sessionId: string, allowList: EgressDestination[], socketPath: string): Promise<string> {
    const bridgeId = await this.engine.startHelper({
      purpose: EGRESS_BRIDGE_PURPOSE,
      sessionId,
      labels: { [LABEL_EGRESS]: allowList.map(formatEgressDestination).join(',') },
      image: this.settings.egress.bridgeImage,
      command: BRIDGE_COMMAND,
      env: {},
      mounts: [{ hostPath: join(socketPath, '..'), containerPath: BRIDGE_SOCKET_DIR, readOnly: true }],
      user: this.settings.containerUser,
      limits: BRIDGE_LIMITS,
      fileSizeLimitBytes: BRIDGE_FILE_SIZE_BYTES,
      runnerId: this.settings.runnerId,
    });
    try {
      await this.untilListening(bridgeId);
    } catch (error) {
      await this.engine.remove(bridgeId).catch(() => undefined);
      throw error;
    }
    return bridgeId;
  }

  /** Waits until the bridge's forwarder listens, so the agent's first request finds it. */
  private async untilListening(bridgeId: string): Promise<void> {
    const deadline = Date.now() + BRIDGE_READY_MS;
    let printed = '';
    while (Date.now() < deadline) {
      printed = (await this.engine.readLog(bridgeId, 20)).toString('utf8');
      if (LISTENING.test(printed)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`the egress bridge did not start listening within ${BRIDGE_READY_MS / 1000} s: ${printed.trim().split('\n').slice(-3).join(' | ') || 'it printed nothing'}`);
  }

  private attempt(bridgeId: string, listener: EgressListener, notes: LogNotes): EgressAttempt {
    return {
      network: `container:${bridgeId}`,
      env: proxyEnvironment(),
      notes,
      traffic: () => listener.tally.summary(),
      close: async (log) => {
        await listener.close().catch((error) => log.warn({ err: (error as Error).message }, 'egress: the proxy socket could not be closed'));
        await this.engine
          .remove(bridgeId)
          .catch((error) => log.warn({ bridgeId, err: (error as Error).message }, 'could not remove the egress bridge; reconciliation will'));
      },
    };
  }
}

/** What standard clients (curl, git, npm, Claude Code, busybox wget) read to use a proxy. */
export function proxyEnvironment(): Record<string, string> {
  return {
    HTTPS_PROXY: EGRESS_PROXY_URL,
    HTTP_PROXY: EGRESS_PROXY_URL,
    https_proxy: EGRESS_PROXY_URL,
    http_proxy: EGRESS_PROXY_URL,
    NO_PROXY: 'localhost,127.0.0.1',
    no_proxy: 'localhost,127.0.0.1',
  };
}
