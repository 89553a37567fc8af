/**
 * The fault test, full form: `npm run fault-test [-- --runs 3 --seed 1234 --sessions 400 --rounds 2]`.
 *
 * Each run starts a fresh stack (PostgreSQL, NATS, the four services, the real Docker engine), runs a
 * DAG of sessions (fan-out, fan-in, designed failures, retries) and, at seeded random moments, kills
 * -9 each service (the stack's supervisor restarts it), restarts NATS and restarts PostgreSQL (`--rounds` times each); then
 * checks every session's status, exit code and output against what the DAG dictates, the containers
 * Docker created per attempt, containers left behind and the event stream. Prints the recovery time
 * after each fault and the figures; exits 1 if any run found a problem.
 *
 * Options: --runs N (default 1), --seed S (first run's seed, then S+1…; default random),
 * --sessions N (default 400, at least 200), --rounds N (default 2), --max-sleep S (longest sleep of a
 * session's prompt, default 1), --json FILE (write the reports),
 * --keep (keep each run's state directory and logs).
 */
import { writeFileSync } from 'node:fs';
import { ALL_FAULTS, describeReport, newSeed, runFaultTest, type FaultRunReport } from '../apps/hub-e2e/src/support/fault';

function parseArgs(argv: string[]) {
  const options = { runs: 1, seed: newSeed(), sessions: 400, rounds: 2, maxSleep: 1, json: '', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--runs':
        options.runs = Number(value());
        break;
      case '--seed':
        options.seed = Number(value());
        break;
      case '--sessions':
        options.sessions = Number(value());
        break;
      case '--rounds':
        options.rounds = Number(value());
        break;
      case '--max-sleep':
        options.maxSleep = Number(value());
        break;
      case '--json':
        options.json = value();
        break;
      case '--keep':
        options.keep = true;
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (--runs, --seed, --sessions, --rounds, --max-sleep, --json, --keep)`);
    }
  }
  for (const key of ['runs', 'seed', 'sessions', 'rounds'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 0) throw new Error(`--${key} must be a whole number`);
  }
  if (options.sessions < 200) throw new Error('--sessions must be at least 200');
  if (!(options.maxSleep >= 0 && options.maxSleep <= 60)) throw new Error('--max-sleep must be between 0 and 60 seconds');
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.keep) process.env['HUB_E2E_KEEP'] = '1';
  const faults = Array.from({ length: options.rounds }, () => ALL_FAULTS).flat();
  const reports: FaultRunReport[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const seed = options.seed + run - 1;
    console.log(`\n=== fault test run ${run}/${options.runs} (seed ${seed}) ===`);
    const report = await runFaultTest({
      seed,
      sessions: options.sessions,
      faults,
      maxSleepSeconds: options.maxSleep,
      runTimeoutMs: 900_000,
    });
    reports.push(report);
    if (options.keep) console.log(`  logs kept in ${report.stateDir}`);
  }
  if (options.json) writeFileSync(options.json, JSON.stringify(reports, null, 2));

  console.log('\n=== summary ===');
  for (const report of reports) console.log(describeReport(report).split('\n').slice(0, 2).join('\n'));
  const recoveries = reports.flatMap((r) => r.faults.map((f) => f.recoveryMs)).filter((ms): ms is number => ms !== null);
  if (recoveries.length) {
    const sorted = [...recoveries].sort((a, b) => a - b);
    console.log(
      `recovery over ${recoveries.length} faults: median ${(sorted[Math.floor(sorted.length / 2)] / 1000).toFixed(1)} s, ` +
        `max ${(sorted[sorted.length - 1] / 1000).toFixed(1)} s`,
    );
  }
  const failed = reports.filter((r) => r.problems.length || r.faultsNotInjected.length);
  console.log(failed.length ? `${failed.length} of ${reports.length} run(s) FAILED` : `all ${reports.length} run(s) passed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
