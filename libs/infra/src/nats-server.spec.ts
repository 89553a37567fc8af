import { renderClusterMembership } from './nats-server';

describe("a cluster node's config", () => {
  it('names the node, listens for routes on loopback, and routes to the other nodes with the routes password', () => {
    const config = renderClusterMembership({
      name: 'hub',
      serverName: 'hub-2',
      port: 6222,
      routes: [6221, 6223],
      routeUser: 'hub-route',
      routePassword: 'p@ss/word',
    });
    expect(config).toContain('server_name: "hub-2"');
    expect(config).toContain('listen: "127.0.0.1:6222"');
    expect(config).toContain('authorization { user: "hub-route", password: "p@ss/word" }');
    expect(config).toContain('routes: ["nats-route://hub-route:p%40ss%2Fword@127.0.0.1:6221", "nats-route://hub-route:p%40ss%2Fword@127.0.0.1:6223"]');
  });
});
