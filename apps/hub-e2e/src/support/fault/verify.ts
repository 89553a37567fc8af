import { createHash } from 'node:crypto';
import { ALLOWED_TRANSITIONS, isTerminal, type SessionView } from '@hub/contracts';
import { designedExitCode, OUTPUT_FILE, type FaultDag } from './dag';
import type { DockerContainerEvent, StatusChange } from './observe';

/** What the fault test saw once the run was over. */
export interface RunObservations {
  dag: FaultDag;
  /** The orchestration's sessions as the API reports them at the end. */
  sessions: SessionView[];
  dockerEvents: DockerContainerEvent[];
  changes: StatusChange[];
  /** out.txt of each completed session as the API serves it (null: not found). */
  outputs: Map<string, { content: string | null; listed: { path: string; size: number; sha256: string }[] }>;
  /** Each completed session's log as the API serves it. */
  logs: Map<string, string>;
  /** Containers of this run that still existed once every session had ended (after a grace). */
  leftovers: { id: string; sessionId: string; attempt: string; state: string }[];
  /** Containers of this run that existed the moment every session had ended (before the grace). */
  containersAtEnd: number;
  /** Containers of this run the runner removed as orphans (its log). */
  orphansRemoved: number;
  /** Containers of this run the runner adopted after a restart (its log). */
  adopted: number;
  /** Services not running at the end. */
  deadServices: string[];
}

export interface RunFigures {
  sessions: number;
  byStatus: Record<string, number>;
  /** Attempts the registry counted (sum of each session's `attempt`). */
  attempts: number;
  /** Of which ended `container_lost` (run again without spending a retry). */
  lostAttempts: number;
  /** Attempts that ran a container to its end (not lost). */
  attemptsThatRan: number;
  /** Container `create` events Docker recorded for the run's sessions. */
  containersCreated: number;
  /** Attempts with more than one container created. */
  attemptsCreatedTwice: number;
  /** Lost attempts whose container had in fact run to its designed end (their work was redone). */
  lostAfterRunning: number;
  orphansRemoved: number;
  containersAtEnd: number;
  orphansLeft: number;
  adopted: number;
  statusEvents: number;
  duplicateEventIds: number;
  /** The longest any attempt stayed claimed without a container started (starting → next status). */
  longestStartingMs: number;
  /** The longest between a session's last dependency ending and its decision (waiting → ready | skipped). */
  longestDecisionMs: number;
}

/** Checks everything against the outcome the DAG dictates; returns the figures and every problem found. */
export function verifyRun(o: RunObservations): { figures: RunFigures; problems: string[] } {
  const problems: string[] = [];
  const planned = new Map(o.dag.sessions.map((s) => [s.name, s]));
  const byName = new Map(o.sessions.map((s) => [s.name ?? s.id, s]));
  const nameOf = new Map(o.sessions.map((s) => [s.id, s.name ?? s.id]));

  const creations = new Map<string, number>();
  const dieCodes = new Map<string, number | null>();
  for (const event of o.dockerEvents) {
    const key = `${event.sessionId}#${event.attempt}`;
    if (event.action === 'create') creations.set(key, (creations.get(key) ?? 0) + 1);
    if (event.action === 'die') dieCodes.set(key, event.exitCode);
  }

  let attempts = 0;
  let lostAttempts = 0;
  let attemptsThatRan = 0;
  let attemptsCreatedTwice = 0;
  let lostAfterRunning = 0;
  const byStatus: Record<string, number> = {};

  for (const plan of o.dag.sessions) {
    const session = byName.get(plan.name);
    const expected = o.dag.expected.get(plan.name)!;
    if (!session) {
      problems.push(`${plan.name}: missing from the orchestration`);
      continue;
    }
    const where = `${plan.name} (${session.id})`;
    byStatus[session.status] = (byStatus[session.status] ?? 0) + 1;

    // Terminal, with the status and exit code the design dictates.
    if (session.status !== expected.status) {
      problems.push(`${where}: ${session.status} (${session.statusReason}), expected ${expected.status}`);
    } else if (expected.status !== 'skipped' && session.exitCode !== expected.exitCode) {
      problems.push(`${where}: exit code ${session.exitCode}, expected ${expected.exitCode}`);
    } else if (expected.status === 'skipped') {
      // "root (id) failed (…) ← hop (id) ← … ← dependency (id)": the last hop is the dependency that blocked it.
      const hops = (session.statusReason ?? '').split(' ← ');
      const named = /^(\S+) \(/.exec(hops[hops.length - 1])?.[1];
      if (!named || !expected.blockers.includes(named)) {
        problems.push(`${where}: skipped with reason "${session.statusReason}", expected it to name one of ${expected.blockers.join(', ')}`);
      }
    }

    // Attempts: each finished, each ended as designed for its number (or was lost).
    attempts += session.attempt;
    if (session.attempts.length !== session.attempt) {
      problems.push(`${where}: attempt ${session.attempt} but ${session.attempts.length} finished attempt(s) listed`);
    }
    let lost = 0;
    let failedAttempts = 0;
    for (const attempt of session.attempts) {
      const key = `${session.id}#${attempt.attempt}`;
      const created = creations.get(key) ?? 0;
      if (created > 1) attemptsCreatedTwice++;
      const designed = designedExitCode(plan, attempt.attempt);
      if (attempt.reason?.startsWith('container_lost')) {
        lost++;
        if (created > 1) problems.push(`${where}: attempt ${attempt.attempt} (lost) had ${created} containers created`);
        if (created && dieCodes.get(key) === designed) lostAfterRunning++;
        continue;
      }
      attemptsThatRan++;
      if (attempt.exitCode !== designed) {
        problems.push(`${where}: attempt ${attempt.attempt} ended ${attempt.status} (${attempt.reason}), exit code ${attempt.exitCode}, designed ${designed}`);
      }
      if (attempt.exitCode !== 0) failedAttempts++;
      if (created !== 1) problems.push(`${where}: attempt ${attempt.attempt} ran with ${created} container(s) created, expected exactly 1`);
      const die = dieCodes.get(key);
      if (created === 1 && die !== undefined && die !== attempt.exitCode) {
        problems.push(`${where}: attempt ${attempt.attempt} recorded exit code ${attempt.exitCode}, Docker saw ${die}`);
      }
    }
    lostAttempts += lost;
    if (lost > 3) problems.push(`${where}: ${lost} attempts lost (at most 3 are re-run)`);
    if (session.status === 'failed' && expected.status === 'failed' && failedAttempts !== plan.retries + 1) {
      problems.push(`${where}: failed after ${failedAttempts} failed attempt(s), expected ${plan.retries + 1} (retries: ${plan.retries})`);
    }
    const last = session.attempts[session.attempts.length - 1];
    if (isTerminal(session.status) && session.status !== 'skipped' && last && last.status !== session.status) {
      problems.push(`${where}: ended ${session.status} but its last attempt ended ${last.status}`);
    }
    for (const [key, count] of creations) {
      const [id, n] = key.split('#');
      if (id === session.id && (Number(n) < 1 || Number(n) > session.attempt)) {
        problems.push(`${where}: ${count} container(s) created for attempt ${n}, which the registry never counted`);
      }
    }

    // Output: intact, as predicted from the inputs' contents.
    if (expected.status === 'completed' && session.status === 'completed') {
      const output = o.outputs.get(plan.name);
      const want = expected.output!;
      if (!output || output.content === null) problems.push(`${where}: ${OUTPUT_FILE} missing`);
      else if (output.content !== want) problems.push(`${where}: ${OUTPUT_FILE} is ${JSON.stringify(output.content)}, expected ${JSON.stringify(want)}`);
      const listed = output?.listed.find((f) => f.path === OUTPUT_FILE);
      const sha = createHash('sha256').update(want).digest('hex');
      if (!listed || listed.sha256 !== sha || listed.size !== Buffer.byteLength(want)) {
        problems.push(`${where}: output listing ${JSON.stringify(output?.listed)} does not match ${OUTPUT_FILE} (sha256 ${sha})`);
      }
      const log = o.logs.get(plan.name) ?? '';
      if (!log.includes(`ran ${plan.name} attempt ${session.attempt}`)) {
        problems.push(`${where}: log does not say "ran ${plan.name} attempt ${session.attempt}": ${JSON.stringify(log.slice(0, 200))}`);
      }
    }
  }
  if (o.sessions.length !== o.dag.sessions.length) {
    problems.push(`the orchestration has ${o.sessions.length} sessions, ${o.dag.sessions.length} were planned`);
  }
  for (const s of o.sessions) if (!planned.has(s.name ?? '')) problems.push(`unplanned session ${s.name} (${s.id})`);

  // The event stream: each transition once, and for each session a contiguous chain from created.
  const seenIds = new Set<string>();
  let duplicateEventIds = 0;
  const chains = new Map<string, typeof o.changes>();
  for (const change of o.changes) {
    if (seenIds.has(change.eventId)) {
      duplicateEventIds++;
      problems.push(`event ${change.eventId} (${nameOf.get(change.sessionId)} ${change.from} -> ${change.to}) is in the stream twice`);
    }
    seenIds.add(change.eventId);
    chains.set(change.sessionId, [...(chains.get(change.sessionId) ?? []), change]);
  }
  for (const session of o.sessions) {
    const where = `${session.name} (${session.id})`;
    const chain = chains.get(session.id) ?? [];
    const path = chain.map((c) => `${c.from}->${c.to}`).join(' ');
    if (!chain.length) {
      problems.push(`${where}: no session.status-changed in the stream`);
      continue;
    }
    if (chain[0].from !== 'created') problems.push(`${where}: its events start from ${chain[0].from}, not created: ${path}`);
    for (let i = 0; i < chain.length; i++) {
      const { from, to } = chain[i];
      if (i > 0 && from !== chain[i - 1].to) problems.push(`${where}: events not contiguous at #${i + 1}: ${path}`);
      if (!ALLOWED_TRANSITIONS[from].includes(to)) problems.push(`${where}: ${from} -> ${to} is not an allowed move: ${path}`);
    }
    if (chain[chain.length - 1].to !== session.status) {
      problems.push(`${where}: its events end at ${chain[chain.length - 1].to}, the session is ${session.status}: ${path}`);
    }
    const claims = chain.filter((c) => c.to === 'starting').length;
    if (claims !== session.attempt) problems.push(`${where}: ${claims} claim(s) (-> starting) in the stream for ${session.attempt} attempt(s): ${path}`);
  }

  // Stalls: the longest a claim went without a container, and a decision waited after its inputs.
  let longestStartingMs = 0;
  let longestDecisionMs = 0;
  const endedAt = new Map<string, number>();
  for (const [sessionId, chain] of chains) {
    const end = chain.find((c) => isTerminal(c.to));
    if (end) endedAt.set(sessionId, end.at);
    for (let i = 0; i + 1 < chain.length; i++) {
      if (chain[i].to === 'starting') longestStartingMs = Math.max(longestStartingMs, chain[i + 1].at - chain[i].at);
    }
  }
  for (const session of o.sessions) {
    const decision = (chains.get(session.id) ?? []).find((c) => c.from === 'waiting');
    if (!decision || !session.dependsOn.length) continue;
    const inputsEnded = Math.max(...session.dependsOn.map((dep) => endedAt.get(dep) ?? Number.NaN));
    if (!Number.isNaN(inputsEnded)) longestDecisionMs = Math.max(longestDecisionMs, decision.at - inputsEnded);
  }

  const leftIds = new Set(o.leftovers.map((c) => c.id));
  for (const c of o.leftovers) problems.push(`container ${c.id.slice(0, 12)} (${nameOf.get(c.sessionId)} attempt ${c.attempt}, ${c.state}) left behind`);
  if (lostAfterRunning) {
    problems.push(`${lostAfterRunning} attempt(s) reported container_lost although their container had run to its designed end (their work was done twice)`);
  }
  if (attemptsCreatedTwice) problems.push(`${attemptsCreatedTwice} attempt(s) had more than one container created`);
  for (const service of o.deadServices) problems.push(`${service} is not running at the end`);

  return {
    figures: {
      sessions: o.sessions.length,
      byStatus,
      attempts,
      lostAttempts,
      attemptsThatRan,
      containersCreated: [...creations.values()].reduce((a, b) => a + b, 0),
      attemptsCreatedTwice,
      lostAfterRunning,
      orphansRemoved: o.orphansRemoved,
      containersAtEnd: o.containersAtEnd,
      orphansLeft: leftIds.size,
      adopted: o.adopted,
      statusEvents: o.changes.length,
      duplicateEventIds,
      longestStartingMs,
      longestDecisionMs,
    },
    problems,
  };
}
