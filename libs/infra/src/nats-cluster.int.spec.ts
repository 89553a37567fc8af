// A JetStream cluster of three nats-server processes on loopback (issue 18): replicated streams, Hub's
// users on every node, routes that only the cluster's own nodes may open, and a stream that loses
// nothing when the node leading it is killed.
import { promises as fs } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { BUS_PRINCIPALS } from '@hub/contracts';
import { hubNatsUsers, loadNatsPasswords, NATS_OBSERVER, natsCredentialsOf } from './nats-auth';
import { startNatsCluster, type NatsCluster } from './nats-cluster';
import { isProcessAlive } from './process-tree';
import { makeTempDir } from './temp-dir';

describe('startNatsCluster (three nats-server processes on loopback)', () => {
  let dir: string;
  let cluster: NatsCluster;
  let passwords: Record<string, string>;
  const connections: NatsConnection[] = [];
  const asObserver = async (servers = cluster.url) => {
    const nc = await connect({ servers: servers.split(','), ...natsCredentialsOf(NATS_OBSERVER, passwords), maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    dir = await makeTempDir('hub-nats-cluster');
    passwords = await loadNatsPasswords(dir, [...BUS_PRINCIPALS, NATS_OBSERVER], {});
    cluster = await startNatsCluster({ nodes: 3, storeDir: join(dir, 'cluster'), users: hubNatsUsers(passwords, { observer: true }) });
  }, 60_000);

  afterAll(async () => {
    for (const nc of connections) await nc.close().catch(() => undefined);
    await cluster?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('starts the nodes as one cluster, with JetStream answering through each, and a URL naming all of them', async () => {
    expect(cluster.nodes.map((n) => n.serverName)).toEqual(['hub-1', 'hub-2', 'hub-3']);
    expect(cluster.url.split(',')).toEqual(cluster.nodes.map((n) => n.url));
    for (const node of cluster.nodes) {
      const nc = await asObserver(node.url);
      expect(nc.info?.server_name).toBe(node.serverName);
      expect(nc.info?.cluster).toBe('hub');
      // Each node tells its clients of the others (the client fails over to them).
      expect(nc.info?.connect_urls).toHaveLength(3);
      await nc.jetstreamManager();
    }
    const jsm = await (await asObserver()).jetstreamManager();
    const info = await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    expect(info.config.num_replicas).toBe(3);
    expect(cluster.nodes.map((n) => n.serverName)).toContain(info.cluster?.leader);
    expect(info.cluster?.replicas).toHaveLength(2);
  });

  it('lets in only Hub users on every node, and only nodes with the routes password on the route ports', async () => {
    for (const node of cluster.nodes) {
      await expect(connect({ servers: node.url, reconnect: false })).rejects.toThrow(/Authorization/i);
      // Configs hold passwords: their owner's alone.
      expect((await fs.stat(join(node.storeDir, 'nats-server.conf'))).mode & 0o777).toBe(0o600);
    }
    // A process of the host that dials a route port, as a node would, without the password.
    const answer = await talkToRoutePort(cluster.nodes[0]!.clusterPort);
    expect(answer).toMatch(/-ERR 'Authorization Violation'/);
  });

  it('loses nothing when the stream leader is killed: publishing pauses, then goes on; the node catches up when back', async () => {
    const nc = await asObserver();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'FAILOVER', subjects: ['failover.>'], num_replicas: 3, duplicate_window: 60_000_000_000 });
    const leaderName = (await jsm.streams.info('FAILOVER')).cluster!.leader!;
    const leader = cluster.node(leaderName);
    const js = nc.jetstream();

    // Published like the outbox relay does: each message with its id, retried until acknowledged.
    const total = 300;
    let longestWaitMs = 0;
    for (let i = 1; i <= total; i++) {
      if (i === 100) await leader.kill();
      const began = Date.now();
      for (;;) {
        try {
          await js.publish(`failover.${i}`, new TextEncoder().encode(String(i)), { msgID: `m-${i}`, timeout: 1_000 });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      longestWaitMs = Math.max(longestWaitMs, Date.now() - began);
    }
    const after = await jsm.streams.info('FAILOVER');
    expect(after.cluster?.leader).not.toBe(leaderName);
    expect(after.state).toMatchObject({ messages: total, first_seq: 1, last_seq: total });
    expect(longestWaitMs).toBeLessThan(15_000);
    process.stdout.write(`stream leader ${leaderName} killed: the longest publish waited ${longestWaitMs} ms\n`);

    // Every message once, in order: read by sequence from the stream's leader (an ephemeral consumer,
    // one copy, may be placed on the dead node while the cluster still counts it: nats-server 2.9).
    const seen: number[] = [];
    for (let seq = 1; seq <= total; seq++) seen.push(Number(new TextDecoder().decode((await jsm.streams.getMessage('FAILOVER', { seq })).data)));
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));

    // Back on its store, the node catches up: the stream's copy there is current again.
    expect(leader.running).toBe(false);
    await leader.start();
    await cluster.waitForJetStream(30_000);
    const deadline = Date.now() + 30_000;
    let peer;
    do {
      await new Promise((r) => setTimeout(r, 200));
      const info = await jsm.streams.info('FAILOVER');
      peer = info.cluster?.leader === leaderName ? { current: true, offline: false } : info.cluster?.replicas?.find((r) => r.name === leaderName);
    } while (!(peer?.current && !peer.offline) && Date.now() < deadline);
    expect(peer?.current).toBe(true);
    expect(peer?.offline).toBeFalsy();
    expect((await jsm.streams.info('FAILOVER')).state.messages).toBe(total);
  }, 90_000);

  it('keeps its streams when stopped and started again on the same store directory', async () => {
    const pids = cluster.nodes.map((n) => n.pid!);
    await cluster.stop();
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    cluster = await startNatsCluster({ nodes: 3, storeDir: join(dir, 'cluster'), users: hubNatsUsers(passwords, { observer: true }) });
    const jsm = await (await asObserver()).jetstreamManager();
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const info = await jsm.streams.info('FAILOVER');
        expect(info.state.messages).toBe(300);
        expect(info.config.num_replicas).toBe(3);
        break;
      } catch (error) {
        // The stream's own leader is elected a moment after the cluster's.
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 60_000);

  it('refuses a cluster of one node', async () => {
    await expect(startNatsCluster({ nodes: 1, storeDir: join(dir, 'one') })).rejects.toThrow(/at least 2 nodes/);
  });
});

/** Connects to a route port, says CONNECT without credentials, and returns what the node answers. */
function talkToRoutePort(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, 3_000);
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.startsWith('INFO') && !text.includes('CONNECT-SENT')) {
        text += 'CONNECT-SENT\n';
        socket.write('CONNECT {"verbose":false,"pedantic":false,"name":"intruder"}\r\nPING\r\n');
      }
      if (text.includes('-ERR')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
