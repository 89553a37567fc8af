import { createHash } from 'node:crypto';
import { SeededRandom } from './random';

/**
 * What a session of the fault-test DAG is designed to do:
 * - `ok`: writes its output and exits 0;
 * - `retry`: fails (exit 4) while HUB_ATTEMPT < succeedsOnAttempt, then behaves as `ok` (retries: 2);
 * - `fail`: exits 3 on every attempt (no retries), so everything downstream ends skipped;
 * - `exhaust`: exits 5 on every attempt, spending its one retry, then ends failed.
 */
export type SessionRole = 'ok' | 'retry' | 'fail' | 'exhaust';

export const OUTPUT_FILE = 'out.txt';
export const EXIT_FAIL = 3;
export const EXIT_RETRY = 4;
export const EXIT_EXHAUST = 5;
export const EXIT_MISSING_INPUT = 7;

export interface PlannedSession {
  name: string;
  layer: number;
  role: SessionRole;
  /** Names, sorted: the order in which the prompt reads its inputs. */
  dependsOn: string[];
  retries: number;
  /** For `retry`: the first attempt that succeeds. */
  succeedsOnAttempt: number;
  sleepSeconds: number;
  prompt: string;
}

export interface ExpectedOutcome {
  status: 'completed' | 'failed' | 'skipped';
  exitCode: number | null;
  /** A completed session's out.txt: its name, then the sha256 of its inputs' out.txt in order. */
  output: string | null;
  /** A skipped session's dependencies that do not complete (its reason names one of them). */
  blockers: string[];
}

export interface FaultDag {
  seed: number;
  sessions: PlannedSession[];
  expected: Map<string, ExpectedOutcome>;
  /** The session with the most dependents, and the one with the most dependencies. */
  widestFanOut: { name: string; dependents: number };
  widestFanIn: { name: string; dependencies: number };
  depth: number;
}

export interface DagOptions {
  /** At least 200 for the fault test. */
  sessions: number;
  seed: number;
  /** Layers, roots included. Default: about one per 22 sessions, at least 8. */
  layers?: number;
  /** Longest sleep a prompt does, in seconds (each sleeps 0…this, in fifths). Default 1. */
  maxSleepSeconds?: number;
}

/**
 * A layered DAG with fan-out (one session many depend on), fan-in (sinks that depend on many),
 * designed failures whose downstream ends skipped, and retries that fail before they succeed.
 * Every completed session writes out.txt = its name + the hash of its inputs' out.txt, so its
 * content is predictable and covers, like a Merkle tree, every ancestor's output: any lost or
 * corrupted output anywhere upstream shows in every completed descendant.
 */
export function buildFaultDag(options: DagOptions): FaultDag {
  const random = new SeededRandom(options.seed);
  const total = options.sessions;
  if (total < 40) throw new Error('the fault-test DAG needs at least 40 sessions');
  const layerCount = options.layers ?? Math.max(8, Math.round(total / 22));
  const maxSleep = options.maxSleepSeconds ?? 1;

  // Layer sizes: a few roots, four sinks, the rest spread over the middle layers.
  const roots = 6;
  const sinks = 4;
  const middle = total - roots - sinks;
  const sizes = [roots];
  for (let layer = 1; layer < layerCount - 1; layer++) {
    const left = layerCount - 1 - layer;
    const already = sizes.slice(1).reduce((a, b) => a + b, 0);
    sizes.push(Math.round((middle - already) / left));
  }
  sizes.push(sinks);

  const layers: string[][] = sizes.map((size, layer) =>
    Array.from({ length: size }, (_, i) => `l${String(layer).padStart(2, '0')}-${String(i).padStart(3, '0')}`),
  );
  const deps = new Map<string, Set<string>>();
  const layerOf = new Map<string, number>();
  layers.forEach((names, layer) => names.forEach((name) => layerOf.set(name, layer)));

  // The fan-out hub: the first session of layer 1; much of layers 2 and 3 depends on it.
  const hub = layers[1][0];
  for (let layer = 1; layer < layerCount - 1; layer++) {
    for (const name of layers[layer]) {
      const set = new Set<string>([random.pick(layers[layer - 1])]);
      const extra = random.int(0, 2);
      for (let i = 0; i < extra; i++) {
        const from = random.next() < 0.7 ? layer - 1 : random.int(0, layer - 1);
        set.add(random.pick(layers[from]));
      }
      if ((layer === 2 && random.next() < 0.6) || (layer === 3 && random.next() < 0.3)) set.add(hub);
      deps.set(name, set);
    }
  }
  for (const name of [...layers[0], ...layers[layerCount - 1]]) deps.set(name, new Set());

  const dependents = new Map<string, string[]>();
  const descendantsOf = (name: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [name];
    while (stack.length) {
      for (const child of dependents.get(stack.pop()!) ?? []) {
        if (!seen.has(child)) {
          seen.add(child);
          stack.push(child);
        }
      }
    }
    return seen;
  };
  const indexDependents = () => {
    dependents.clear();
    for (const [name, set] of deps) for (const dep of set) dependents.set(dep, [...(dependents.get(dep) ?? []), name]);
  };
  indexDependents();

  // Roles. Designed failures go where they skip a bounded part of the DAG (a few percent each).
  const names = layers.flat();
  const roles = new Map<string, SessionRole>(names.map((name) => [name, 'ok']));
  const sinkNames = new Set(layers[layerCount - 1]);
  const limit = Math.max(4, Math.round(total * 0.04));
  const candidates = random.shuffle(
    names.filter((name) => name !== hub && !sinkNames.has(name) && descendantsOf(name).size <= limit),
  );
  const failCount = Math.max(3, Math.round(total * 0.035));
  const exhaustCount = Math.max(2, Math.round(total * 0.015));
  for (const name of candidates.slice(0, failCount)) roles.set(name, 'fail');
  for (const name of candidates.slice(failCount, failCount + exhaustCount)) roles.set(name, 'exhaust');
  const others = random.shuffle(names.filter((name) => roles.get(name) === 'ok' && !sinkNames.has(name)));
  for (const name of others.slice(0, Math.round(total * 0.1))) roles.set(name, 'retry');
  roles.set(hub, 'retry');

  // Fan-in sinks. The first depends only on sessions that complete, so at least one wide fan-in
  // completes; the others draw from anything in the second half and are likely skipped.
  const lateHalf = names.filter((name) => layerOf.get(name)! >= Math.floor(layerCount / 2) && !sinkNames.has(name));
  const firstExpected = predict(names, deps, roles);
  const completing = lateHalf.filter((name) => firstExpected.get(name)!.status === 'completed');
  layers[layerCount - 1].forEach((sink, i) => {
    const pool = i === 0 ? completing : lateHalf;
    deps.set(sink, new Set(random.sample(pool, Math.min(pool.length, random.int(12, 24)))));
  });
  indexDependents();

  const expected = predict(names, deps, roles);
  const sessions: PlannedSession[] = names.map((name) => {
    const role = roles.get(name)!;
    const dependsOn = [...deps.get(name)!].sort();
    const sleepSeconds = random.int(0, 5) * (maxSleep / 5);
    const succeedsOnAttempt = role === 'retry' ? random.int(2, 3) : 1;
    return {
      name,
      layer: layerOf.get(name)!,
      role,
      dependsOn,
      retries: role === 'retry' ? 2 : role === 'exhaust' ? 1 : 0,
      succeedsOnAttempt,
      sleepSeconds,
      prompt: promptOf(name, role, dependsOn, sleepSeconds, succeedsOnAttempt),
    };
  });

  let widestFanOut = { name: hub, dependents: 0 };
  for (const name of names) {
    const count = dependents.get(name)?.length ?? 0;
    if (count > widestFanOut.dependents) widestFanOut = { name, dependents: count };
  }
  let widestFanIn = { name: names[0], dependencies: 0 };
  for (const s of sessions) if (s.dependsOn.length > widestFanIn.dependencies) widestFanIn = { name: s.name, dependencies: s.dependsOn.length };

  return { seed: options.seed, sessions, expected, widestFanOut, widestFanIn, depth: layerCount };
}

/** The request body of POST /api/v1/orchestrations for the DAG. */
export function orchestrationRequest(dag: FaultDag, name: string): Record<string, unknown> {
  return {
    name,
    start: true,
    sessions: dag.sessions.map((s) => ({
      name: s.name,
      type: 'testing',
      prompt: s.prompt,
      dependsOn: s.dependsOn,
      ...(s.retries ? { retries: s.retries } : {}),
    })),
  };
}

/** The exit code an attempt of this session must end with, by design. */
export function designedExitCode(session: PlannedSession, attempt: number): number {
  switch (session.role) {
    case 'fail':
      return EXIT_FAIL;
    case 'exhaust':
      return EXIT_EXHAUST;
    case 'retry':
      return attempt < session.succeedsOnAttempt ? EXIT_RETRY : 0;
    default:
      return 0;
  }
}

export function expectedOutput(name: string, inputs: string[]): string {
  const hash = createHash('sha256').update(inputs.join('')).digest('hex');
  return `${name}\n${hash}  -\n`;
}

/** The outcome the DAG dictates, in declaration (topological) order. */
function predict(names: string[], deps: Map<string, Set<string>>, roles: Map<string, SessionRole>): Map<string, ExpectedOutcome> {
  const expected = new Map<string, ExpectedOutcome>();
  for (const name of names) {
    const dependsOn = [...deps.get(name)!].sort();
    const blockers = dependsOn.filter((dep) => expected.get(dep)!.status !== 'completed');
    const role = roles.get(name)!;
    if (blockers.length) {
      expected.set(name, { status: 'skipped', exitCode: null, output: null, blockers });
    } else if (role === 'fail' || role === 'exhaust') {
      expected.set(name, { status: 'failed', exitCode: role === 'fail' ? EXIT_FAIL : EXIT_EXHAUST, output: null, blockers: [] });
    } else {
      const output = expectedOutput(name, dependsOn.map((dep) => expected.get(dep)!.output!));
      expected.set(name, { status: 'completed', exitCode: 0, output, blockers: [] });
    }
  }
  return expected;
}

function promptOf(name: string, role: SessionRole, dependsOn: string[], sleepSeconds: number, succeedsOnAttempt: number): string {
  const sleep = `sleep ${sleepSeconds.toFixed(1)}`;
  const ran = `echo "ran ${name} attempt $HUB_ATTEMPT"`;
  if (role === 'fail') return `${ran}; ${sleep}; echo "${name} fails by design"; exit ${EXIT_FAIL}`;
  if (role === 'exhaust') return `${ran}; ${sleep}; echo "${name} fails on every attempt by design"; exit ${EXIT_EXHAUST}`;
  const retry =
    role === 'retry'
      ? `if [ "$HUB_ATTEMPT" -lt ${succeedsOnAttempt} ]; then echo "${name} attempt $HUB_ATTEMPT fails by design"; exit ${EXIT_RETRY}; fi; `
      : '';
  const inputs = dependsOn.map((dep) => `/hub/inputs/${dep}/${OUTPUT_FILE}`);
  const check = dependsOn.length
    ? `for f in ${inputs.join(' ')}; do [ -f "$f" ] || { echo "missing input $f"; exit ${EXIT_MISSING_INPUT}; }; done; `
    : '';
  const hash = dependsOn.length ? `cat ${inputs.join(' ')} | sha256sum` : `printf '' | sha256sum`;
  return `${ran}; ${retry}${sleep}; ${check}{ echo ${name}; ${hash}; } > /hub/output/${OUTPUT_FILE}`;
}
