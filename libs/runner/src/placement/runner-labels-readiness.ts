import { Injectable } from '@nestjs/common';
import { HealthCheck, RPC } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import { LiveRunners } from './live-runners';
import { RUNNER_LABELS_CHECK, runnerLabelsCheck } from './placement-decision';

/** How long the check waits for the registry: the whole health answer must come within the gateway's 2 s. */
const REGISTRY_WAIT_MS = 1_500;

/**
 * The readiness check on runner labels: the label sets ready sessions wait for (the registry's
 * `sessions.ready-labels`) against the labels of the live runners (their heartbeats). Any runner
 * answers it the same, from the same two sources. What cannot be read is said, never a failure.
 */
@Injectable()
export class RunnerLabelsReadiness {
  constructor(
    private readonly rpc: RpcClient,
    private readonly runners: LiveRunners,
  ) {}

  async check(): Promise<HealthCheck> {
    try {
      const [answer, live] = await Promise.all([withTimeout(this.rpc.call(RPC.readyLabelSets, {}), REGISTRY_WAIT_MS), this.runners.list()]);
      if (!live) return { name: RUNNER_LABELS_CHECK, ok: true, detail: "unknown: the runners' heartbeats could not be read" };
      return runnerLabelsCheck(answer.labelSets, live);
    } catch (error) {
      return { name: RUNNER_LABELS_CHECK, ok: true, detail: `unknown: ${(error as Error).message}` };
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the registry did not answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
