import { NatsConnection, ObjectStore, StorageType } from 'nats';
import { logObjectName, OUTPUT_BUCKET, outputObjectName } from '@hub/contracts';

/**
 * A session's log and output files, in the NATS object store: kept when the container is gone,
 * readable by the gateway, and by any runner that needs them as a dependent's inputs.
 */
export class OutputStore {
  private bucket: Promise<ObjectStore> | null = null;

  constructor(private readonly nc: NatsConnection) {}

  async putLog(sessionId: string, log: Buffer): Promise<void> {
    await (await this.store()).putBlob({ name: logObjectName(sessionId) }, log);
  }

  async putFile(sessionId: string, path: string, content: Buffer): Promise<void> {
    await (await this.store()).putBlob({ name: outputObjectName(sessionId, path) }, content);
  }

  async getLog(sessionId: string): Promise<Buffer | null> {
    const blob = await (await this.store()).getBlob(logObjectName(sessionId));
    return blob ? Buffer.from(blob) : null;
  }

  async getFile(sessionId: string, path: string): Promise<Buffer | null> {
    const blob = await (await this.store()).getBlob(outputObjectName(sessionId, path));
    return blob ? Buffer.from(blob) : null;
  }

  private store(): Promise<ObjectStore> {
    this.bucket ??= this.nc
      .jetstream()
      .views.os(OUTPUT_BUCKET, { storage: StorageType.File })
      .catch((error) => {
        this.bucket = null;
        throw error;
      });
    return this.bucket;
  }
}
