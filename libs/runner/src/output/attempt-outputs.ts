import { Inject, Injectable } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import type { SkippedOutput } from '@hub/contracts';
import { OutputStore } from '@hub/messaging';
import { OBJECT_STORE_PATIENCE_MS } from '../inputs/input-fetcher';
import type { LogCapture } from '../logs/log-capture';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { retry } from '../util/retry';
import { collectOutput, OutputReadError } from './collect-output';

/** What an attempt left in /hub/output, as stored. */
export interface StoredOutput {
  files: number;
  bytes: number;
  /** Entries not kept. */
  skipped: number;
  /** The first of them, each with why. */
  skippedNames: SkippedOutput[];
}

/**
 * Stores what an attempt produced in the object store, streamed: its captured log, its output files
 * (masked) and their manifest, the list a dependent and the API read. A store that stays
 * unreachable past OBJECT_STORE_PATIENCE_MS fails the attempt rather than hang it.
 */
@Injectable()
export class AttemptOutputs {
  constructor(
    private readonly store: OutputStore,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  async storeLog(sessionId: string, attempt: number, captured: LogCapture | null, log: HubLogger): Promise<void> {
    if (!captured) return;
    await retry(() => this.store.putLogFile(sessionId, attempt, captured.file), {
      what: 'storing the log',
      log,
      patienceMs: OBJECT_STORE_PATIENCE_MS,
    });
  }

  async storeOutput(sessionId: string, attempt: number, outputDir: string, log: HubLogger): Promise<StoredOutput> {
    const collected = await collectOutput(outputDir, {
      limits: this.settings.outputLimits,
      masker: () => this.settings.secrets.maskingStream(),
      store: (path, content) =>
        retry(() => this.store.putFileStream(sessionId, path, content()), {
          what: `storing output ${path.slice(0, 200)}`,
          log,
          patienceMs: OBJECT_STORE_PATIENCE_MS,
          // A file the agent made unreadable is skipped by collectOutput; only the store is retried.
          isPermanent: (error) => error instanceof OutputReadError,
        }).then(() => undefined),
    });
    return this.storeManifest(sessionId, attempt, collected.files, collected.skipped, collected.skippedCount, log);
  }

  /** An attempt whose output is not kept at all (it broke its quota): the manifest says why. */
  async storeNothing(sessionId: string, attempt: number, reason: string, log: HubLogger): Promise<StoredOutput> {
    return this.storeManifest(sessionId, attempt, [], [{ path: '.', reason }], 1, log);
  }

  private async storeManifest(
    sessionId: string,
    attempt: number,
    files: { path: string; size: number; sha256: string }[],
    skipped: SkippedOutput[],
    skippedCount: number,
    log: HubLogger,
  ): Promise<StoredOutput> {
    await retry(() => this.store.putManifest(sessionId, { sessionId, attempt, files, skipped, skippedCount }), {
      what: 'storing the output listing',
      log,
      patienceMs: OBJECT_STORE_PATIENCE_MS,
    });
    return {
      files: files.length,
      bytes: files.reduce((sum, file) => sum + file.size, 0),
      skipped: skippedCount,
      skippedNames: skipped,
    };
  }
}
