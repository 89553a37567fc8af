import { randomBytes } from 'node:crypto';
import { type NatsConnection } from 'nats';
import { isTerminal, RPC, type SessionStatus, type SessionView } from '@hub/contracts';
import { RpcClient } from '@hub/messaging';
import { HUB_SERVICES } from '@hub/infra';
import { connectToBus, startTestStack, type TestStack } from '../test-stack';
import { buildFaultDag, orchestrationRequest, OUTPUT_FILE, type FaultDag } from './dag';
import { injectFault, type FaultKind, type InjectedFault } from './faults';
import { containersLeft, DockerEventRecorder, logLines, readStatusChanges, type StatusChange } from './observe';
import { SeededRandom } from './random';
import { verifyRun, type RunFigures } from './verify';

export interface FaultRunOptions {
  seed: number;
  /** Sessions in the DAG (at least 200 for the real thing). */
  sessions: number;
  /** The faults to inject, in any order (shuffled by the seed); a kind may appear more than once. */
  faults: readonly FaultKind[];
  /** First fault this long after the orchestration was created (ms, drawn in the range). */
  firstFaultAfterMs?: [number, number];
  /** Pause between one fault's recovery and the next fault (ms, drawn in the range). */
  gapMs?: [number, number];
  /** How long a broken part stays down (ms, drawn in the range). */
  downMs?: [number, number];
  /** Longest sleep of a session's prompt (s). */
  maxSleepSeconds?: number;
  /** Give up waiting for the run after this long (ms). */
  runTimeoutMs?: number;
  /** Extra environment for the services. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface FaultRecord extends InjectedFault {
  /** Seconds since the orchestration was created. */
  atRunSeconds: number;
  /** Terminal sessions when the fault was injected. */
  terminalBefore: number;
  /** backAt → gateway /health/ready answers 200. */
  readyMs: number | null;
  /** backAt → the first of each pipeline step of the run after it (from the stream; null: none after). */
  steps: { decision: number | null; claim: number | null; start: number | null; end: number | null };
  /**
   * backAt → every session caught by the fault has moved on: each that was starting or running
   * when it went down has changed status since, and each that was waiting with all its
   * dependencies ended by backAt has been decided. (null: none was caught.)
   */
  settledMs: number | null;
  /** max(readyMs, every step, settledMs): until Hub is healthy and nothing is left hanging. */
  recoveryMs: number | null;
}

export interface FaultRunReport {
  seed: number;
  sessions: number;
  dag: { depth: number; fanOut: FaultDag['widestFanOut']; fanIn: FaultDag['widestFanIn']; roles: Record<string, number> };
  orchestrationId: string;
  /** Orchestration created → every session terminal. */
  runMs: number;
  faults: FaultRecord[];
  /** Faults planned but not injected because the run had already ended. */
  faultsNotInjected: FaultKind[];
  figures: RunFigures;
  problems: string[];
  stateDir: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

/**
 * The fault test: a DAG of sessions runs on a fresh stack while, at seeded random moments, each
 * listed part of the stack is broken and brought back; then everything is checked against the
 * outcome the DAG dictates (see verifyRun). Returns the figures and the problems found (none: pass).
 */
export async function runFaultTest(options: FaultRunOptions): Promise<FaultRunReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const random = new SeededRandom(options.seed);
  const dag = buildFaultDag({ sessions: options.sessions, seed: options.seed, maxSleepSeconds: options.maxSleepSeconds });
  const plan = random.shuffle(options.faults);
  const [firstMin, firstMax] = options.firstFaultAfterMs ?? [3_000, 8_000];
  const [gapMin, gapMax] = options.gapMs ?? [1_000, 5_000];
  const [downMin, downMax] = options.downMs ?? [500, 3_000];
  const roles: Record<string, number> = {};
  for (const s of dag.sessions) roles[s.role] = (roles[s.role] ?? 0) + 1;
  log(
    `fault test: seed ${options.seed}, ${dag.sessions.length} sessions in ${dag.depth} layers ` +
      `(fan-out ${dag.widestFanOut.dependents}, fan-in ${dag.widestFanIn.dependencies}; ${JSON.stringify(roles)}), ` +
      `faults in order: ${plan.join(', ')}`,
  );

  const dockerEvents = new DockerEventRecorder();
  await dockerEvents.start();
  const hub = await startTestStack({
    HUB_RECONCILE_INTERVAL_SECONDS: '2',
    HUB_RETRY_BACKOFF_MS: '200',
    // A runner id of its own: another Hub on this Docker engine never touches this run's containers.
    HUB_RUNNER_ID: `fault-${options.seed}-${randomBytes(3).toString('hex')}`,
    ...options.env,
  }).catch((error) => {
    dockerEvents.close();
    throw error;
  });
  let nc: NatsConnection | undefined;
  try {
    nc = await connectToBus(hub.stack, { name: 'fault-test', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const rpc = new RpcClient(nc);
    const terminalCount = async (): Promise<number | null> => {
      try {
        const summary = await rpc.call(RPC.readOrchestration, { orchestrationId, limit: 1 }); // the counts; one session is enough
        return Object.entries(summary.counts).reduce((n, [status, count]) => n + (isTerminal(status as SessionStatus) ? count : 0), 0);
      } catch {
        return null; // NATS, the registry or PostgreSQL is down right now
      }
    };

    const created = await hub.api.createOrchestration(orchestrationRequest(dag, `fault-test-${options.seed}`));
    const orchestrationId = created.id;
    const runBegan = Date.now();
    log(`orchestration ${orchestrationId} created and started; service logs in ${hub.stack.logDir}`);

    let finishedAt: number | null = null;
    const runTimeoutMs = options.runTimeoutMs ?? 600_000;
    /** Resolves true once every session has ended, false if the run outlives runTimeoutMs. */
    const done = (async () => {
      let lastLogged = 0;
      while (Date.now() < runBegan + runTimeoutMs) {
        const terminal = await terminalCount();
        if (terminal === dag.sessions.length) {
          finishedAt = Date.now();
          return true;
        }
        if (terminal !== null && Date.now() - lastLogged > 10_000) {
          lastLogged = Date.now();
          log(`  +${((Date.now() - runBegan) / 1000).toFixed(0)} s: ${terminal}/${dag.sessions.length} sessions ended`);
        }
        await sleep(250);
      }
      return false;
    })();

    // Faults, one after the other, each once Hub has recovered from the previous one.
    const injected: (InjectedFault & { terminalBefore: number; liveReadyAt: number | null })[] = [];
    const notInjected: FaultKind[] = [];
    await sleep(random.int(firstMin, firstMax));
    for (const [index, kind] of plan.entries()) {
      if (finishedAt !== null) {
        notInjected.push(...plan.slice(index));
        log(`  the run ended before ${plan.slice(index).join(', ')} could be injected`);
        break;
      }
      const terminalBefore = (await terminalCount()) ?? -1;
      const fault = await injectFault(hub, kind, random.int(downMin, downMax));
      const liveReadyAt = await waitUntilReady(hub, 120_000);
      // Paced on progress as seen live; the figures are computed afterwards from the stream.
      const progressDeadline = Date.now() + 120_000;
      const atBack = await terminalCount();
      while (finishedAt === null && Date.now() < progressDeadline) {
        const now = await terminalCount();
        if (now !== null && atBack !== null && now > atBack) break;
        await sleep(200);
      }
      injected.push({ ...fault, terminalBefore, liveReadyAt });
      log(
        `  fault ${index + 1}/${plan.length} at +${((fault.downAt - runBegan) / 1000).toFixed(1)} s: ${fault.how}; ` +
          `ready again ${seconds(liveReadyAt === null ? null : liveReadyAt - fault.backAt)} after it was back`,
      );
      if (index < plan.length - 1) await sleep(random.int(gapMin, gapMax));
    }

    const finished = await done;
    const runMs = (finishedAt ?? Date.now()) - runBegan;
    log(
      finished
        ? `all ${dag.sessions.length} sessions ended ${seconds(runMs)} after the orchestration was created`
        : `the run did not finish within ${seconds(runTimeoutMs)}; checking what there is`,
    );

    // What Hub reports, what Docker saw, what the stream holds.
    const orchestration = await hub.api.getOrchestration(orchestrationId);
    const sessions: SessionView[] = orchestration.sessions;
    const ids = new Set(sessions.map((s) => s.id));
    const atEnd = (await containersLeft(ids)).length;
    const leftovers = await waitForNoContainers(ids, 15_000);
    const changes = await readStatusChanges(hub.stack, orchestrationId);
    const outputs = new Map<string, { content: string | null; listed: { path: string; size: number; sha256: string }[] }>();
    const logs = new Map<string, string>();
    for (const session of sessions.filter((s) => s.status === 'completed')) {
      const listing = await hub.api.request('GET', `/api/v1/sessions/${session.id}/output`);
      const file = await hub.api.request('GET', `/api/v1/sessions/${session.id}/output/files/${OUTPUT_FILE}`);
      outputs.set(session.name!, { content: file.status === 200 ? file.text : null, listed: listing.body?.files ?? [] });
      logs.set(session.name!, (await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text);
    }
    const runnerLog = hub.stack.services['container-runner'].logFile;
    const ofRun = (lines: Record<string, any>[]) => lines.filter((line) => ids.has(line.sessionId)).length;

    const { figures, problems } = verifyRun({
      dag,
      sessions,
      dockerEvents: await dockerEvents.stop(ids),
      changes,
      outputs,
      logs,
      leftovers,
      containersAtEnd: atEnd,
      orphansRemoved: ofRun(logLines(runnerLog, 'removing orphan container')),
      adopted: ofRun(logLines(runnerLog, 'adopting container')),
      deadServices: HUB_SERVICES.filter((name) => hub.stack.services[name].pid === undefined),
    });
    const dependsOn = new Map(sessions.map((s) => [s.id, s.dependsOn]));
    if (!finished) problems.unshift(`the run did not finish within ${seconds(runTimeoutMs)} (sessions still on their way)`);
    const faults = injected.map((fault) => recoveryOf(fault, changes, dependsOn, runBegan));
    const report: FaultRunReport = {
      seed: options.seed,
      sessions: dag.sessions.length,
      dag: { depth: dag.depth, fanOut: dag.widestFanOut, fanIn: dag.widestFanIn, roles },
      orchestrationId,
      runMs,
      faults,
      faultsNotInjected: notInjected,
      figures,
      problems,
      stateDir: hub.stack.logDir,
    };
    log(describeReport(report));
    return report;
  } finally {
    dockerEvents.close();
    await nc?.close().catch(() => undefined);
    await hub.stop();
  }
}

/**
 * Recovery of one fault, from the stream: from the moment the broken part was back until the
 * gateway's /health/ready answered 200, every step of the pipeline had happened again at least
 * once — a dependency decision (waiting → ready | skipped), a claim (→ starting), a container
 * started (→ running) and an attempt's end recorded (starting | running → anything else) — and
 * every session the fault caught in flight had moved on (settledMs). A step that never happens
 * again (the run had no more of it) does not count.
 */
function recoveryOf(
  fault: InjectedFault & { terminalBefore: number; liveReadyAt: number | null },
  changes: StatusChange[],
  dependsOn: Map<string, string[]>,
  runBegan: number,
): FaultRecord {
  const { backAt, downAt } = fault;
  const firstAfter = (matches: (c: StatusChange) => boolean): number | null => {
    let first: number | null = null;
    for (const c of changes) if (c.at >= backAt && matches(c) && (first === null || c.at < first)) first = c.at;
    return first === null ? null : first - backAt;
  };
  const steps = {
    decision: firstAfter((c) => c.from === 'waiting'),
    claim: firstAfter((c) => c.to === 'starting'),
    start: firstAfter((c) => c.to === 'running'),
    end: firstAfter((c) => (c.from === 'starting' || c.from === 'running') && c.to !== 'running'),
  };

  const chains = new Map<string, StatusChange[]>();
  for (const c of changes) chains.set(c.sessionId, [...(chains.get(c.sessionId) ?? []), c]);
  const statusAt = (sessionId: string, at: number) => {
    let status: string = 'created';
    for (const c of chains.get(sessionId) ?? []) if (c.at <= at) status = c.to;
    return status;
  };
  const nextMoveAfter = (sessionId: string, at: number) => (chains.get(sessionId) ?? []).find((c) => c.at > at)?.at ?? null;
  let settled: number | null = null;
  const caught = (sessionId: string, since: number) => {
    const moved = nextMoveAfter(sessionId, since);
    const ms = moved === null ? Number.POSITIVE_INFINITY : Math.max(0, moved - backAt);
    settled = settled === null ? ms : Math.max(settled, ms);
  };
  for (const sessionId of chains.keys()) {
    const status = statusAt(sessionId, downAt);
    if (status === 'starting' || status === 'running') caught(sessionId, downAt);
    else if (
      statusAt(sessionId, backAt) === 'waiting' &&
      (dependsOn.get(sessionId) ?? []).every((dep) => isTerminal(statusAt(dep, backAt) as SessionStatus))
    ) {
      caught(sessionId, backAt);
    }
  }

  const readyMs = fault.liveReadyAt === null ? null : fault.liveReadyAt - backAt;
  const known = [...Object.values(steps), settled].filter((ms): ms is number => ms !== null);
  const { liveReadyAt: _ignored, ...rest } = fault;
  return {
    ...rest,
    atRunSeconds: (downAt - runBegan) / 1000,
    readyMs,
    steps,
    settledMs: settled,
    recoveryMs: readyMs === null ? null : Math.max(readyMs, ...known),
  };
}

async function waitUntilReady(hub: TestStack, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${hub.api.baseUrl}/health/ready`, { signal: AbortSignal.timeout(3_000) });
      await response.arrayBuffer();
      if (response.status === 200) return Date.now();
    } catch {
      // the gateway is down or slow: keep asking
    }
    await sleep(100);
  }
  return null;
}

async function waitForNoContainers(ids: ReadonlySet<string>, graceMs: number) {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const left = await containersLeft(ids);
    if (!left.length || Date.now() > deadline) return left;
    await sleep(500);
  }
}

/** The report as the lines printed after a run. */
export function describeReport(report: FaultRunReport): string {
  const f = report.figures;
  const lines = [
    `fault test seed ${report.seed}: ${report.problems.length ? `FAILED (${report.problems.length} problems)` : 'passed'}`,
    `  ${report.sessions} sessions ended in ${seconds(report.runMs)}: ${JSON.stringify(f.byStatus)}`,
    `  faults injected: ${report.faults.length}${report.faultsNotInjected.length ? ` (not injected: ${report.faultsNotInjected.join(', ')})` : ''}`,
    ...report.faults.map(
      (x) =>
        `    +${x.atRunSeconds.toFixed(1)} s ${x.how}: back ${seconds(x.backAt - x.downAt)} after it went down; ` +
        `then ready ${seconds(x.readyMs)}, decision ${seconds(x.steps.decision)}, claim ${seconds(x.steps.claim)}, ` +
        `start ${seconds(x.steps.start)}, end ${seconds(x.steps.end)}, caught sessions settled ${seconds(x.settledMs)} ` +
        `-> recovery ${seconds(x.recoveryMs)}`,
    ),
    `  attempts ${f.attempts} (${f.lostAttempts} lost and run again, ${f.attemptsThatRan} ran to their end); ` +
      `containers created ${f.containersCreated}; attempts with two containers ${f.attemptsCreatedTwice}; ` +
      `lost after running ${f.lostAfterRunning}`,
    `  containers adopted after a runner restart ${f.adopted}; orphans removed by reconciliation ${f.orphansRemoved}; ` +
      `containers still there when the last session ended ${f.containersAtEnd}, left 15 s later ${f.orphansLeft}`,
    `  session.status-changed events ${f.statusEvents}, duplicate ids ${f.duplicateEventIds}`,
    `  longest claim without a container ${seconds(f.longestStartingMs)}; longest decision after the last input ended ${seconds(f.longestDecisionMs)}`,
    ...report.problems.slice(0, 50).map((p) => `  PROBLEM ${p}`),
    ...(report.problems.length > 50 ? [`  … and ${report.problems.length - 50} more`] : []),
  ];
  return lines.join('\n');
}
