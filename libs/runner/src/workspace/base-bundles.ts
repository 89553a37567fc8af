import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import { withoutHostPaths } from '@hub/git';
import { OutputStore } from '@hub/messaging';
import { createBaseBundle } from '../git/base-bundle';
import { OBJECT_STORE_PATIENCE_MS } from '../inputs/input-fetcher';
import { RUNNER_SETTINGS, RunnerSettings } from '../runner.tokens';
import { retry } from '../util/retry';
import { removeTree } from './remove-tree';

/**
 * The history up to each base commit that captured changes start from, stored once in the object
 * store (baseBundleObjectName): a session's bundle holds only base..head, and whoever serves its
 * branch (the gateway, which has no mirror) needs what lies before. A commit names its whole
 * history, so one bundle serves every session that started there.
 */
@Injectable()
export class BaseBundles {
  /** Commits this process knows to be stored: the object store is asked once per commit. */
  private readonly stored = new Set<string>();
  /** Bundles being made, by commit: sessions that end at once on the same base share one. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: OutputStore,
    @Inject(RUNNER_SETTINGS) private readonly settings: RunnerSettings,
  ) {}

  /**
   * Stores the history up to `baseCommit` unless it is stored already, made from the runner's
   * mirror (or, without one, as the empty commit) in `scratchDir`, which is removed afterwards.
   * Never throws: without it the branches cannot be fetched from Hub, but the session's outcome and
   * its changes stand, so a failure is a warning.
   */
  async ensureStored(baseCommit: string, mirror: string | null, scratchDir: string, log: HubLogger): Promise<void> {
    if (this.stored.has(baseCommit)) return;
    let work = this.inFlight.get(baseCommit);
    if (!work) {
      work = this.storeOnce(baseCommit, mirror, scratchDir, log).finally(() => this.inFlight.delete(baseCommit));
      this.inFlight.set(baseCommit, work);
    }
    await work;
  }

  /** Writes the stored history up to `commit` to `file`; false when none is stored. */
  async fetch(commit: string, file: string, log: HubLogger): Promise<boolean> {
    return retry(
      async () => {
        const stream = await this.store.getBaseBundleStream(commit);
        if (!stream) return false;
        await pipeline(stream, createWriteStream(file, { mode: 0o600 }));
        return true;
      },
      { what: `fetching the history up to ${commit}`, log, patienceMs: OBJECT_STORE_PATIENCE_MS },
    );
  }

  private async storeOnce(baseCommit: string, mirror: string | null, scratchDir: string, log: HubLogger): Promise<void> {
    const patience = { log, patienceMs: OBJECT_STORE_PATIENCE_MS };
    try {
      const known = await retry(() => this.store.hasBaseBundle(baseCommit), { ...patience, what: 'looking up the base bundle' });
      if (!known) {
        const bundle = await createBaseBundle({ baseCommit, mirror, scratchDir, hide: [this.settings.dataDir] });
        await retry(() => this.store.putBaseBundle(baseCommit, bundle), { ...patience, what: 'storing the base bundle' });
        log.info({ baseCommit }, 'history up to the base commit stored');
      }
      this.stored.add(baseCommit);
    } catch (error) {
      log.warn(
        { baseCommit, err: withoutHostPaths((error as Error).message, [this.settings.dataDir]) },
        'the history up to the base commit could not be stored: its branches cannot be fetched from Hub',
      );
    } finally {
      await removeTree(scratchDir).catch(() => undefined);
    }
  }
}
