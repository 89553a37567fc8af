import { KV, KvEntry, NatsConnection, StorageType } from 'nats';
import { IMAGE_REFUSALS_BUCKET, imageRefusalKey, ImageRefusalSchema } from '@hub/contracts';
import { natsReplicas } from './nats-connection';

/** How often a refusal is written again when another runner wrote the same entry at the same moment. */
const WRITE_ATTEMPTS = 5;

/**
 * The runners that refused a session's attempt because its image is not on their engine
 * (IMAGE_REFUSALS_BUCKET, a KV bucket whose entries expire after a day). Each refusal is added by
 * compare-and-set on the entry's revision, so two runners refusing at once are both recorded. The
 * bucket is made on first use.
 */
export class ImageRefusals {
  private bucket: Promise<KV> | null = null;

  constructor(private readonly nc: NatsConnection) {}

  /** Records that `runnerId` refused the attempt for its `image`; answers every runner that refused it so far, in order. */
  async refuse(sessionId: string, attempt: number, image: string, runnerId: string): Promise<string[]> {
    const kv = await this.kv();
    const key = imageRefusalKey(sessionId, attempt);
    let lastError: unknown;
    for (let i = 0; i < WRITE_ATTEMPTS; i++) {
      const entry = await kv.get(key);
      const exists = !!entry && entry.operation === 'PUT';
      const refusedBy = exists ? refusedByOf(entry) : [];
      if (refusedBy.includes(runnerId)) return refusedBy;
      const next = [...refusedBy, runnerId];
      const value = JSON.stringify(ImageRefusalSchema.parse({ image, refusedBy: next }));
      try {
        if (exists) await kv.update(key, value, entry.revision);
        else await kv.create(key, value);
        return next;
      } catch (error) {
        // Another runner wrote it since it was read (a revision mismatch): read it again.
        lastError = error;
      }
    }
    throw new Error(`NATS KV ${IMAGE_REFUSALS_BUCKET.name}: could not record the refusal of ${key}: ${(lastError as Error)?.message}`);
  }

  private kv(): Promise<KV> {
    this.bucket ??= this.nc
      .jetstream()
      .views.kv(IMAGE_REFUSALS_BUCKET.name, { history: 1, ttl: IMAGE_REFUSALS_BUCKET.maxAgeMs, storage: StorageType.File, replicas: natsReplicas() })
      .catch((error) => {
        this.bucket = null;
        throw error;
      });
    return this.bucket;
  }
}

/** The runners an entry names; an entry that does not read counts as none (it is written afresh). */
function refusedByOf(entry: KvEntry): string[] {
  try {
    const parsed = ImageRefusalSchema.safeParse(entry.json());
    return parsed.success ? parsed.data.refusedBy : [];
  } catch {
    return [];
  }
}
