import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { DeliverPolicy, JetStreamClient, NatsConnection, ObjectInfo, ObjectStore, StorageType } from 'nats';
import {
  baseBundleObjectName,
  changesBundleObjectName,
  changesDiffObjectName,
  changesListObjectName,
  StoredChanges,
  StoredChangesSchema,
  logObjectName,
  manifestObjectName,
  sessionLogObjectName,
  OUTPUT_BUCKET,
  OutputManifest,
  OutputManifestSchema,
  outputObjectName,
} from '@hub/contracts';
import { ensureStreamReplicas } from './event-stream';
import { natsReplicas } from './nats-connection';

/**
 * How many bytes of a streamed put may be on their way to NATS at once. The client publishes an
 * object's chunks without waiting for each to be stored, so a file read from a disk faster than the
 * network to NATS would pile up in the connection's outgoing buffer; every FLUSH_EVERY_BYTES the
 * put waits for the server to have read all of it (a PING's PONG). On a local server it costs nothing.
 */
const FLUSH_EVERY_BYTES = 8 * 1024 * 1024;

/**
 * A manifest lists at most MAX_MANIFEST_FILES files, each a path of at most MAX_OUTPUT_PATH_BYTES:
 * a stored one larger than this is not read (it was not written by a runner).
 */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** What the object store recorded of a streamed put. */
export interface StoredObject {
  /** Bytes stored. */
  size: number;
  /** The object store's digest of them (`SHA-256=<base64url>`). */
  digest: string;
}

/**
 * A session's log and output files, in the NATS object store: kept when the container is gone,
 * readable by the gateway, and by any runner that needs them as a dependent's inputs. Files and
 * logs are streamed both ways (any size, bounded memory); the `Buffer` methods are for small ones.
 */
export class OutputStore {
  private bucket: Promise<ObjectStore> | null = null;
  private writableBucket: Promise<ObjectStore> | null = null;

  constructor(private readonly nc: NatsConnection) {}

  /** Stores a session's one log as runners did before each attempt had its own (`sessionLogObjectName`). */
  async putLog(sessionId: string, log: Buffer): Promise<void> {
    await (await this.writable()).putBlob({ name: sessionLogObjectName(sessionId) }, log);
  }

  /** Stores an attempt's log from a file on the runner's disk, streamed. */
  putLogFile(sessionId: string, attempt: number, file: string): Promise<StoredObject> {
    return this.putStream(logObjectName(sessionId, attempt), () => createReadStream(file));
  }

  async putFile(sessionId: string, path: string, content: Buffer): Promise<void> {
    await (await this.writable()).putBlob({ name: outputObjectName(sessionId, path) }, content);
  }

  /**
   * Stores an output file from a stream, read as NATS takes it. A stream that fails fails the put,
   * and nothing of it is kept (a put that fails leaves any earlier object of that name as it was).
   */
  putFileStream(sessionId: string, path: string, content: NodeJS.ReadableStream): Promise<StoredObject> {
    return this.putStream(outputObjectName(sessionId, path), () => content);
  }

  async getLog(sessionId: string, attempt: number): Promise<Buffer | null> {
    const blob = await (await this.store()).getBlob(logObjectName(sessionId, attempt));
    return blob ? Buffer.from(blob) : null;
  }

  /** An attempt's log as a stream (null if it has none). */
  getLogStream(sessionId: string, attempt: number): Promise<Readable | null> {
    return this.getStream(logObjectName(sessionId, attempt));
  }

  /** The session's one log of before attempts had their own, as a stream (null if there is none). */
  getSessionLogStream(sessionId: string): Promise<Readable | null> {
    return this.getStream(sessionLogObjectName(sessionId));
  }

  async getFile(sessionId: string, path: string): Promise<Buffer | null> {
    const blob = await (await this.store()).getBlob(outputObjectName(sessionId, path));
    return blob ? Buffer.from(blob) : null;
  }

  /**
   * An output file as a stream (null if there is none). The stream fails (`error`) if the object
   * store does, or if what came does not match the object's digest.
   */
  getFileStream(sessionId: string, path: string): Promise<Readable | null> {
    return this.getStream(outputObjectName(sessionId, path));
  }

  /** Stores the listing of an attempt's output (checked against its schema first). */
  async putManifest(sessionId: string, manifest: OutputManifest): Promise<void> {
    const checked = OutputManifestSchema.parse(manifest);
    await (await this.writable()).putBlob({ name: manifestObjectName(sessionId) }, Buffer.from(JSON.stringify(checked)));
  }

  /** The listing of a session's output (null if none was stored); one that breaks the schema is an error. */
  async getManifest(sessionId: string): Promise<OutputManifest | null> {
    const store = await this.store();
    const name = manifestObjectName(sessionId);
    const info = await store.info(name);
    if (!info || info.deleted) return null;
    if (info.size > MAX_MANIFEST_BYTES) {
      throw new Error(`the output manifest of session ${sessionId} is ${info.size} bytes, over the ${MAX_MANIFEST_BYTES} a manifest may be`);
    }
    const blob = await store.getBlob(name);
    if (!blob) return null;
    const parsed = OutputManifestSchema.safeParse(JSON.parse(Buffer.from(blob).toString('utf8')));
    if (!parsed.success) throw new Error(`the output manifest of session ${sessionId} is malformed: ${parsed.error.message}`);
    return parsed.data;
  }

  /**
   * Captured changes — the git bundle and the diff (files on the runner's disk, streamed) and their
   * listing — under `key`: a session's id, or `orchestrationChangesKey(id)` for an orchestration's result.
   */
  async putChanges(key: string, changes: StoredChanges, files: { bundle: string; diff: string }): Promise<void> {
    await this.putStream(changesBundleObjectName(key), () => createReadStream(files.bundle));
    await this.putStream(changesDiffObjectName(key), () => createReadStream(files.diff));
    const checked = StoredChangesSchema.parse(changes);
    await (await this.writable()).putBlob({ name: changesListObjectName(key) }, Buffer.from(JSON.stringify(checked)));
  }

  /** The listing of the changes stored under `key` (null when none: nothing changed, or not ended yet). */
  async getChanges(key: string): Promise<StoredChanges | null> {
    const blob = await (await this.store()).getBlob(changesListObjectName(key));
    if (!blob) return null;
    const parsed = StoredChangesSchema.safeParse(JSON.parse(Buffer.from(blob).toString('utf8')));
    if (!parsed.success) throw new Error(`the changes of ${key} are malformed: ${parsed.error.message}`);
    return parsed.data;
  }

  /** The git bundle (base..head) of the changes under `key`, streamed. */
  getChangesBundleStream(key: string): Promise<Readable | null> {
    return this.getStream(changesBundleObjectName(key));
  }

  /** The unified diff of the changes under `key` (capped by the runner), streamed. */
  getChangesDiffStream(key: string): Promise<Readable | null> {
    return this.getStream(changesDiffObjectName(key));
  }

  /** Whether the history up to `commit` is stored (baseBundleObjectName). */
  async hasBaseBundle(commit: string): Promise<boolean> {
    const info = await (await this.store()).info(baseBundleObjectName(commit));
    return !!info && !info.deleted;
  }

  /** Stores the bundle of the history up to `commit` (a file on the runner's disk, streamed). */
  putBaseBundle(commit: string, file: string): Promise<StoredObject> {
    return this.putStream(baseBundleObjectName(commit), () => createReadStream(file));
  }

  /** The bundle of the history up to `commit`, streamed (null when none is stored). */
  getBaseBundleStream(commit: string): Promise<Readable | null> {
    return this.getStream(baseBundleObjectName(commit));
  }

  /**
   * The names of the objects stored under any of `prefixes` (each ending in `/`: a session's
   * `sessionObjectsPrefix`, …), removed ones left out. One pass over the bucket's listing (the latest
   * entry of each object), whatever the number of prefixes.
   */
  async namesUnder(prefixes: readonly string[]): Promise<string[]> {
    const store = await this.store();
    const wanted = new Set(prefixes);
    if (!wanted.size || (await store.status()).streamInfo.state.messages === 0) return [];
    const names: string[] = [];
    for await (const entry of entriesOf(this.nc.jetstream())) {
      if (!entry.deleted && underAny(entry.name, wanted)) names.push(entry.name);
    }
    return names;
  }

  /**
   * Removes the object `name` whole: its chunks, then its description, so that nothing of it stays
   * (the client's own delete leaves a description marked deleted, for ever), and a removal cut short
   * is found, and finished, by the next. False when there was none.
   */
  async remove(name: string): Promise<boolean> {
    const info = await (await this.store()).info(name);
    if (!info) return false;
    const jsm = await this.nc.jetstreamManager();
    if (info.nuid) await jsm.streams.purge(OUTPUT_STREAM, { filter: chunkSubject(info.nuid) });
    await jsm.streams.purge(OUTPUT_STREAM, { filter: entrySubject(name) });
    return !info.deleted;
  }

  private async putStream(name: string, open: () => NodeJS.ReadableStream): Promise<StoredObject> {
    const store = await this.writable();
    const source = open();
    try {
      const info = await store.put({ name }, this.throttled(source));
      return { size: info.size, digest: info.digest };
    } finally {
      destroy(source);
    }
  }

  /** A web stream over a Node stream, read only as NATS asks, pausing for NATS every FLUSH_EVERY_BYTES. */
  private throttled(source: NodeJS.ReadableStream): ReadableStream<Uint8Array> {
    const chunks = (source as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
    let unflushed = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (unflushed >= FLUSH_EVERY_BYTES) {
          unflushed = 0;
          await this.nc.flush();
        }
        const { done, value } = await chunks.next();
        if (done) return controller.close();
        const chunk = typeof value === 'string' ? Buffer.from(value) : value;
        unflushed += chunk.length;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      },
      cancel: async () => {
        await chunks.return?.();
      },
    });
  }

  /**
   * An object as a stream, its chunks fetched in small batches as the stream is read, by an ordered
   * pull consumer. The client's own `get` pushes every chunk into memory as fast as NATS sends them,
   * however slowly they are read (measured: 590 MiB held for a reader pausing 10 s on a 1 GiB file).
   */
  private async getStream(name: string): Promise<Readable | null> {
    const info = await (await this.store()).info(name);
    if (!info || info.deleted) return null;
    if (info.options?.link) throw new Error(`object ${name} is a link; the output store holds none`);
    return Readable.from(chunksOf(this.nc.jetstream(), info), { objectMode: false });
  }

  /** The bucket, made on first use (with HUB_NATS_REPLICAS copies) by whoever opens it first, reader or writer. */
  private store(): Promise<ObjectStore> {
    this.bucket ??= this.nc
      .jetstream()
      .views.os(OUTPUT_BUCKET, { storage: StorageType.File, replicas: natsReplicas() })
      .catch((error) => {
        this.bucket = null;
        throw error;
      });
    return this.bucket;
  }

  /**
   * The bucket to write to, its stream raised to HUB_NATS_REPLICAS copies first (once) if it has
   * fewer: a bucket made on one server gets its copies once the deployment is a cluster. Only the
   * writer (the runner) may update the bucket's stream, so only writes do it.
   */
  private writable(): Promise<ObjectStore> {
    this.writableBucket ??= this.store()
      .then(async (store) => {
        await ensureStreamReplicas(await this.nc.jetstreamManager(), OUTPUT_STREAM);
        return store;
      })
      .catch((error) => {
        this.writableBucket = null;
        throw error;
      });
    return this.writableBucket;
  }
}

/** The stream backing the output bucket, and the subject an object's chunks are on (the object store's layout, ADR-20). */
const OUTPUT_STREAM = `OBJ_${OUTPUT_BUCKET}`;
const chunkSubject = (nuid: string) => `$O.${OUTPUT_BUCKET}.C.${nuid}`;
const DIGEST_PREFIX = 'SHA-256=';

/** Where the object store keeps each object's description (ADR-20): one subject per object, its name in base64url (padded). */
const ENTRY_SUBJECTS = `$O.${OUTPUT_BUCKET}.M.>`;
const entrySubject = (name: string) =>
  `$O.${OUTPUT_BUCKET}.M.${Buffer.from(name, 'latin1').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
/** Object descriptions fetched per request while listing. */
const ENTRIES_PER_FETCH = 256;

/**
 * Each object's latest description (its name, and whether it was removed), by an ordered pull
 * consumer over the bucket's description subjects: read in batches, never all at once.
 */
async function* entriesOf(js: JetStreamClient): AsyncGenerator<{ name: string; deleted: boolean }> {
  const consumer = await js.consumers.get(OUTPUT_STREAM, { filterSubjects: ENTRY_SUBJECTS, deliver_policy: DeliverPolicy.LastPerSubject });
  try {
    // Each message says how many are left after it: a batch asks for no more than that (a fetch of
    // more than there are would wait for its expiry), and the last one ends the listing.
    for (let pending = Infinity; pending > 0; ) {
      const batch = await consumer.fetch({ max_messages: Math.min(ENTRIES_PER_FETCH, pending), expires: 5_000 });
      let got = 0;
      for await (const message of batch) {
        got++;
        pending = message.info.pending;
        const entry = JSON.parse(Buffer.from(message.data).toString('utf8')) as { name?: unknown; deleted?: unknown };
        if (typeof entry.name === 'string') yield { name: entry.name, deleted: entry.deleted === true };
        if (pending === 0) break;
      }
      if (!got) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

/** Whether `name` is under one of `prefixes` (each ending in `/`): looked up at each `/` of the name. */
function underAny(name: string, prefixes: ReadonlySet<string>): boolean {
  for (let slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) {
    if (prefixes.has(name.slice(0, slash + 1))) return true;
  }
  return false;
}

/** Chunks fetched per request: up to 2 MiB in flight, never more, however slowly the stream is read. */
const CHUNKS_PER_FETCH = 16;
/** How long a read waits for its next chunk, over as many fetches as it takes, before it gives up. */
const CHUNK_WAIT_MS = 10_000;

async function* chunksOf(js: JetStreamClient, info: ObjectInfo): AsyncGenerator<Buffer> {
  const sha = createHash('sha256');
  let size = 0;
  let chunks = 0;
  if (info.chunks > 0) {
    const consumer = await js.consumers.get(OUTPUT_STREAM, { filterSubjects: chunkSubject(info.nuid) });
    try {
      // A fetch may end early and empty: the ordered consumer behind it is recreated from where it was
      // (missed heartbeats when this process was busy, a server's status). Only CHUNK_WAIT_MS without
      // a chunk, over as many fetches as that takes, means the chunk is not coming.
      let lastChunkAt = Date.now();
      while (chunks < info.chunks) {
        const batch = await consumer.fetch({ max_messages: Math.min(CHUNKS_PER_FETCH, info.chunks - chunks), expires: CHUNK_WAIT_MS });
        let got = 0;
        for await (const message of batch) {
          got++;
          chunks++;
          size += message.data.length;
          sha.update(message.data);
          yield Buffer.from(message.data);
        }
        if (got) lastChunkAt = Date.now();
        else if (Date.now() - lastChunkAt >= CHUNK_WAIT_MS) throw new Error(`object ${info.name}: chunk ${chunks + 1} of ${info.chunks} did not come`);
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }
  const digest = sha.digest('base64url');
  if (size !== info.size || info.digest.slice(DIGEST_PREFIX.length).replace(/=+$/, '') !== digest) {
    throw new Error(`object ${info.name} is corrupt: ${size} bytes read, ${info.size} stored, digests ${digest} and ${info.digest}`);
  }
}

function destroy(stream: NodeJS.ReadableStream): void {
  const destroyable = stream as NodeJS.ReadableStream & { destroy?: () => void };
  destroyable.destroy?.();
}
