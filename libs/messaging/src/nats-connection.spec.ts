import { ConfigError, loadConfig, NatsReplicasConfigSchema } from '@hub/config';
import { natsServers } from './nats-connection';

describe('NATS_URL with several servers', () => {
  it('is every server of the comma-separated list, spaces dropped', () => {
    expect(natsServers('nats://127.0.0.1:4222')).toEqual(['nats://127.0.0.1:4222']);
    expect(natsServers('nats://a:4222, nats://b:4222 ,nats://c:4222')).toEqual(['nats://a:4222', 'nats://b:4222', 'nats://c:4222']);
    expect(() => natsServers(' , ')).toThrow(/names no server/);
  });
});

describe('HUB_NATS_REPLICAS', () => {
  it('is 1 unless set, and 1, 3 or 5 when set', () => {
    expect(loadConfig(NatsReplicasConfigSchema, {}).HUB_NATS_REPLICAS).toBe(1);
    expect(loadConfig(NatsReplicasConfigSchema, { HUB_NATS_REPLICAS: '3' }).HUB_NATS_REPLICAS).toBe(3);
    expect(loadConfig(NatsReplicasConfigSchema, { HUB_NATS_REPLICAS: '5' }).HUB_NATS_REPLICAS).toBe(5);
  });

  it('stops the service with a message naming it for anything else', () => {
    for (const value of ['2', '0', 'three']) {
      expect(() => loadConfig(NatsReplicasConfigSchema, { HUB_NATS_REPLICAS: value })).toThrow(ConfigError);
      expect(() => loadConfig(NatsReplicasConfigSchema, { HUB_NATS_REPLICAS: value })).toThrow(/HUB_NATS_REPLICAS: must be 1, 3 or 5/);
    }
  });
});
