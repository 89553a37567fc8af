import { randomUUID } from 'node:crypto';
import { KV, KvEntry, NatsConnection, StorageType } from 'nats';
import {
  INSTALLATION_BUCKET,
  InstallationIdSchema,
  RUNNERS_BUCKET,
  RunnerHeartbeat,
  RunnerHeartbeatInput,
  RunnerHeartbeatSchema,
} from '@hub/contracts';
import { ensureStreamReplicas, isNotFound } from './event-stream';
import { natsReplicas } from './nats-connection';

/** A runner's entry as read: its heartbeat, or why it could not be read (the runner still counts as present). */
export type RunnerPresence = { ok: true; heartbeat: RunnerHeartbeat } | { ok: false; problem: string };

/** A runner's entry with its KV revision: a new revision is a new heartbeat (the registry's lease check counts them). */
export type RunnerObservation = RunnerPresence & { revision: number };

const KEYS_PREFIX = `$KV.${RUNNERS_BUCKET.name}.`;
const STREAM = `KV_${RUNNERS_BUCKET.name}`;

/**
 * The runners of this deployment, as they announce themselves (RUNNERS_BUCKET, a KV bucket whose
 * entries expire RUNNERS_BUCKET.maxAgeMs after their last put). The bucket is made on first use.
 */
export class RunnerHeartbeats {
  private bucket: Promise<KV> | null = null;
  private raised: Promise<void> | null = null;

  constructor(private readonly nc: NatsConnection) {}

  /** Puts this runner's entry (checked against the schema first). */
  async put(heartbeat: RunnerHeartbeatInput): Promise<void> {
    const checked = RunnerHeartbeatSchema.parse(heartbeat);
    const kv = await this.kv();
    await this.raiseReplicas();
    await kv.put(checked.runnerId, JSON.stringify(checked));
  }

  /** Deletes a runner's entry (a runner stopping cleanly deletes its own). */
  async remove(runnerId: string): Promise<void> {
    await (await this.kv()).delete(runnerId);
  }

  /**
   * Every runner with an entry now, by id. An entry that breaks the schema still names a present
   * runner (its key): it is returned with the problem, never left out.
   */
  async present(): Promise<Map<string, RunnerPresence>> {
    const kv = await this.kv();
    const jsm = await this.nc.jetstreamManager();
    // The subjects holding a message (one per key: history 1), without a consumer.
    const info = await jsm.streams.info(`KV_${RUNNERS_BUCKET.name}`, { subjects_filter: `${KEYS_PREFIX}>` });
    const present = new Map<string, RunnerPresence>();
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const key = subject.slice(KEYS_PREFIX.length);
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      present.set(key, presenceOf(key, entry));
    }
    return present;
  }

  /**
   * Raises the bucket's stream to HUB_NATS_REPLICAS copies if it has fewer (once): the client makes a
   * missing bucket with them but leaves an existing one as it is. On the write path: the writer may.
   */
  private raiseReplicas(): Promise<void> {
    this.raised ??= this.nc
      .jetstreamManager()
      .then((jsm) => ensureStreamReplicas(jsm, STREAM))
      .catch((error) => {
        this.raised = null;
        throw error;
      });
    return this.raised;
  }

  /**
   * For a reader that may not create the bucket (the registry): every entry now with its revision, or
   * null when the bucket does not exist (no runner has put a heartbeat since the JetStream store began).
   */
  async observe(): Promise<Map<string, RunnerObservation> | null> {
    const jsm = await this.nc.jetstreamManager();
    let info;
    try {
      info = await jsm.streams.info(STREAM, { subjects_filter: `${KEYS_PREFIX}>` });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const kv = await this.nc.jetstream().views.kv(RUNNERS_BUCKET.name, { bindOnly: true });
    const observed = new Map<string, RunnerObservation>();
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const key = subject.slice(KEYS_PREFIX.length);
      const entry = await kv.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      observed.set(key, { ...presenceOf(key, entry), revision: entry.revision });
    }
    return observed;
  }

  private kv(): Promise<KV> {
    this.bucket ??= this.nc
      .jetstream()
      .views.kv(RUNNERS_BUCKET.name, { history: 1, ttl: RUNNERS_BUCKET.maxAgeMs, storage: StorageType.File, replicas: natsReplicas() })
      .catch((error) => {
        this.bucket = null;
        throw error;
      });
    return this.bucket;
  }
}

function presenceOf(key: string, entry: KvEntry): RunnerPresence {
  let value: unknown;
  try {
    value = entry.json();
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = RunnerHeartbeatSchema.safeParse(value);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  if (parsed.data.runnerId !== key) return { ok: false, problem: `its runnerId is ${parsed.data.runnerId}` };
  return { ok: true, heartbeat: parsed.data };
}

/**
 * This deployment's installation id (INSTALLATION_BUCKET): the one stored, or a new one stored by
 * create-if-absent, so that runners starting together agree on the first one written. A stored
 * value that is not an id is an error naming the bucket (nothing is overwritten).
 */
export async function installationIdOf(nc: NatsConnection): Promise<string> {
  const { name, key } = INSTALLATION_BUCKET;
  const kv = await nc.jetstream().views.kv(name, { history: 1, storage: StorageType.File, replicas: natsReplicas() });
  // An existing bucket is left as it was made: raised here to HUB_NATS_REPLICAS copies if it has fewer.
  await ensureStreamReplicas(await nc.jetstreamManager(), `KV_${name}`);
  let entry = await kv.get(key);
  if (!entry || entry.operation !== 'PUT') {
    try {
      await kv.create(key, randomUUID());
    } catch (error) {
      // Another runner created it first (the create found a value): that one is read below.
      const now = await kv.get(key);
      if (!now || now.operation !== 'PUT') throw error;
    }
    entry = await kv.get(key);
  }
  if (!entry || entry.operation !== 'PUT') throw new Error(`NATS KV ${name}: no installation id under "${key}" after creating one`);
  const parsed = InstallationIdSchema.safeParse(entry.string());
  if (!parsed.success) {
    throw new Error(`NATS KV ${name}: the installation id under "${key}" is ${JSON.stringify(entry.string().slice(0, 80))}, not an id (${parsed.error.issues[0]?.message})`);
  }
  return parsed.data;
}
