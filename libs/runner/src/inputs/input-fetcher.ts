import { Injectable } from '@nestjs/common';
import type { HubLogger } from '@hub/config';
import type { SessionInput } from '@hub/contracts';
import { OutputStore } from '@hub/messaging';
import type { ContainerInput } from '../ports/container-engine.port';
import { retry } from '../util/retry';
import { ListedInput, materialiseInputs } from './materialise-inputs';

/**
 * How long the object store (JetStream) may stay unreachable, NATS restarting say, before fetching
 * an input counts as a failure of the attempt.
 */
export const OBJECT_STORE_PATIENCE_MS = 120_000;

/**
 * Puts each dependency's output files on the runner's disk for the container to mount: the list
 * from the dependency's manifest, the files from the object store (both by reference: no message
 * carries them).
 */
@Injectable()
export class InputFetcher {
  constructor(private readonly outputs: OutputStore) {}

  async fetch(inputs: readonly SessionInput[], dir: string, log: HubLogger): Promise<ContainerInput[]> {
    const listed: ListedInput[] = [];
    for (const input of inputs) {
      const manifest = await this.fromStore(log, `reading the output listing of dependency ${input.name}`, () =>
        this.outputs.getManifest(input.sessionId),
      );
      listed.push({ ...input, files: manifest?.files ?? [] });
    }
    return materialiseInputs(listed, dir, {
      getFile: (sessionId, path) =>
        this.fromStore(log, `fetching input ${path} of session ${sessionId}`, () => this.outputs.getFile(sessionId, path)),
    });
  }

  private fromStore<T>(log: HubLogger, what: string, call: () => Promise<T>): Promise<T> {
    return retry(call, { what, log, patienceMs: OBJECT_STORE_PATIENCE_MS });
  }
}
