import { CallerRpc } from './auth/caller-context';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { HubError, isTerminal, notFound, RPC, SessionOutput, SessionView, unavailable } from '@hub/contracts';
import type { HubFile } from '@hub/hub-api';
import { OutputStore } from '@hub/messaging';
import { attemptState } from './logs/followed-attempt';

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** What a unified diff of captured changes is served as. */
export const DIFF_CONTENT_TYPE = 'text/x-diff; charset=utf-8';

/** A read of the output store; one that fails is `unavailable` (not found is null, for the caller to say why). */
export async function readOutputStore<T>(get: () => Promise<T | null>): Promise<T | null> {
  try {
    return await get();
  } catch (error) {
    throw unavailable(`cannot read the output store (NATS JetStream): ${(error as Error).message}`);
  }
}

/** The Content-Type an output file is served with: a few text types, else opaque bytes. */
export const contentTypeOf = (path: string) => CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';

/**
 * Why a session has no log of `attempt` (default its latest). The runner stores an attempt's log when
 * its container exits, so an attempt that has not finished has none yet (`?follow=true` shows it as
 * it runs), and one that ended without running (skipped, cancelled early) never will.
 */
export function noLogMessage(session: SessionView, attempt = session.attempt): string {
  if (attempt > session.attempt) {
    return isTerminal(session.status)
      ? `no log: session ${session.id} is ${session.status} after ${session.attempt} attempt(s); it has no attempt ${attempt}`
      : `no log yet: attempt ${attempt} of session ${session.id} has not started (the session is ${session.status})`;
  }
  if (attempt < session.attempt) {
    return `no log: attempt ${attempt} of session ${session.id} left none (its container never ran or its log was not stored)`;
  }
  return isTerminal(session.status)
    ? `no log: session ${session.id} is ${session.status} and left no log (its container never ran or its log was not stored)`
    : `no log yet: session ${session.id} is ${session.status}; its log is stored when its container exits (?follow=true shows it as it runs)`;
}

/**
 * A session's log and output files, read from the output store (the gateway only reads it), for
 * NatsHubApi. The registry is asked first, so an unknown session is a 404 from the registry, and an
 * output file is served only if the session's output listing has that exact path. Files are
 * streamed, never held whole here; a store that cannot be read is `unavailable`.
 */
@Injectable()
export class SessionFiles {
  constructor(
    private readonly rpc: CallerRpc,
    private readonly store: OutputStore,
  ) {}

  /** An attempt's log (default the latest), as stored when its container exited. */
  async log(sessionId: string, attempt?: number): Promise<HubFile> {
    const session = await this.rpc.call(RPC.getSession, { sessionId });
    const wanted = attempt ?? session.attempt;
    // Streamed from the object store: a log is up to the runner's cap (HUB_LOG_CAP_MB), never held whole here.
    const log = await readOutputStore(() => this.storedLog(session, wanted));
    if (!log) throw new HubError('not_found', noLogMessage(session, wanted));
    return { content: log, contentType: 'text/plain; charset=utf-8' };
  }

  /**
   * An attempt's stored log, as a stream (null when it has none). The latest attempt, once over, may
   * have the session's one log of before attempts had their own (each attempt overwrote it).
   */
  async storedLog(session: SessionView, attempt: number): Promise<Readable | null> {
    const own = attempt >= 1 ? await this.store.getLogStream(session.id, attempt) : null;
    if (own || attempt !== session.attempt || attemptState(session, attempt) !== 'ended') return own;
    return this.store.getSessionLogStream(session.id);
  }

  /** The unified diff of a session's captured changes, streamed; not_found, saying why, when there is none. */
  async changes(sessionId: string): Promise<HubFile> {
    const session = await this.rpc.call(RPC.getSession, { sessionId });
    const diff = session.changes ? await readOutputStore(() => this.store.getChangesDiffStream(sessionId)) : null;
    if (!diff) {
      const why = isTerminal(session.status) ? 'changed nothing in its workspace' : `is ${session.status}; its changes are captured when it ends`;
      throw new HubError('not_found', `no changes: session ${sessionId} ${why}`);
    }
    return { content: diff, contentType: DIFF_CONTENT_TYPE };
  }

  /**
   * A session's exit code and output listing. The list is the manifest the runner stored in the
   * object store (sessions from before manifests keep the list the registry recorded).
   */
  async output(sessionId: string): Promise<SessionOutput> {
    const summary = await this.rpc.call(RPC.getSessionOutput, { sessionId });
    const { status, exitCode, changes } = summary;
    const manifest = summary.reported ? await readOutputStore(() => this.store.getManifest(sessionId)) : null;
    if (!manifest) return { sessionId, status, exitCode, files: summary.legacyFiles, skipped: [], skippedCount: 0, changes };
    const { files, skipped, skippedCount } = manifest;
    return { sessionId, status, exitCode, files, skipped, skippedCount, changes };
  }

  async file(sessionId: string, path: string): Promise<HubFile> {
    const output = await this.output(sessionId);
    if (!output.files.some((file) => file.path === path)) throw notFound(`output file ${path} of session`, sessionId);
    return this.listedFile(sessionId, path);
  }

  /** A file of an output listing the caller has just read: `path` is one of its paths. */
  async listedFile(sessionId: string, path: string): Promise<HubFile> {
    const content = await readOutputStore(() => this.store.getFileStream(sessionId, path));
    if (!content) throw new HubError('not_found', `output file ${path} of session ${sessionId} is listed but not in the output store`);
    return { content, contentType: contentTypeOf(path) };
  }
}
