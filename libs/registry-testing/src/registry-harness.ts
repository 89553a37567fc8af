import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { createLogger } from '@hub/config';
import { DEFAULT_EGRESS, EgressPolicy, ImagePolicy } from '@hub/contracts';
import { makeTempDir, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@hub/infra';
import { ensureEventStream, MessagingModule } from '@hub/messaging';
import { openDatabase } from '@hub/persistence';
import { RegistryModule, RegistrySettings } from '@hub/registry';

/** The registry's settings in its integration tests: the test agent, `hub/*` images, no backoff, no tenant limits. */
export const TEST_REGISTRY_SETTINGS: RegistrySettings = {
  defaultImage: 'hub/test-agent:latest',
  imagePolicy: new ImagePolicy('hub/*'),
  egressPolicy: new EgressPolicy(DEFAULT_EGRESS),
  templates: {},
  defaultTimeoutSeconds: 60,
  retryBackoffMs: 0,
  tenants: new Map(),
};

/** The registry's use cases on a real PostgreSQL (migrated) and a real NATS with the event stream, and how to stop it all. */
export interface RegistryHarness {
  app: INestApplicationContext;
  dataSource: DataSource;
  nc: NatsConnection;
  stop(): Promise<void>;
}

export interface RegistryHarnessOptions {
  /** What differs from TEST_REGISTRY_SETTINGS. */
  settings?: Partial<RegistrySettings>;
  /** The event stream as it was before the registry started (ensureEventStream's options). */
  eventStream?: Parameters<typeof ensureEventStream>[1];
}

/**
 * Starts a private PostgreSQL cluster and NATS server in a temporary directory (named after `name`),
 * the event stream, and a Nest application context of the RegistryModule over them: what the
 * registry's integration specs act on. `stop()` takes it all down and removes the directory.
 */
export async function startRegistryHarness(name: string, options: RegistryHarnessOptions = {}): Promise<RegistryHarness> {
  const dir = await makeTempDir(`hub-${name}`);
  let postgres: PostgresCluster | undefined;
  let nats: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  let dataSource: DataSource | undefined;
  let app: INestApplicationContext | undefined;
  const stop = async () => {
    await app?.close();
    await dataSource?.destroy();
    await nc?.close();
    await nats?.stop();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    postgres = await startPostgresCluster({ dataDir: join(dir, 'pg'), fsync: false });
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    await ensureEventStream(await nc.jetstreamManager(), options.eventStream);
    dataSource = await openDatabase(postgres.url);
    app = await NestFactory.createApplicationContext(
      {
        module: class RegistryHarnessModule {},
        imports: [
          MessagingModule.forConnection(nc),
          RegistryModule.forRoot(dataSource, { ...TEST_REGISTRY_SETTINGS, ...options.settings }, createLogger('test', 'silent')),
        ],
      },
      { logger: false },
    );
    return { app, dataSource, nc, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
