// How far Hub is from the Docker floor: the time from POST /sessions (start: true) to the
// session.status-changed event saying it completed, for a prompt that does nothing, against
// `docker run --rm` of the same image. Prints figures; asserts nothing about them.
//
//   npm run bench            (SESSIONS=30 by default)
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect, JSONCodec } from 'nats';
import { makeTempDir, NATS_OBSERVER, startHubStack } from '@hub/infra';

const SESSIONS = Number(process.env['SESSIONS'] ?? 30);
const root = resolve(__dirname, '..');

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const describe = (label: string, values: number[]) =>
  console.log(
    `${label.padEnd(44)} p50 ${percentile(values, 50).toFixed(0).padStart(5)} ms   p90 ${percentile(values, 90)
      .toFixed(0)
      .padStart(5)} ms   min ${Math.min(...values).toFixed(0).padStart(5)} ms`,
  );

async function dockerFloor(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const began = performance.now();
    execFileSync('docker', ['run', '--rm', '--network', 'none', 'hub/test-agent:latest', 'true']);
    times.push(performance.now() - began);
  }
  return times;
}

async function main() {
  execFileSync('bash', [resolve(root, 'images/test-agent/build.sh')], { stdio: 'ignore' });
  const stateDir = await makeTempDir('hub-bench');
  const token = randomBytes(16).toString('hex');
  const stack = await startHubStack({ workspaceRoot: root, stateDir, durable: false, apiToken: token, natsObserver: true, env: { LOG_LEVEL: 'info' } });
  const nc = await connect({ servers: stack.natsUrl, ...stack.natsCredentials(NATS_OBSERVER) });
  const jc = JSONCodec<{ data: { sessionId: string; to: string; at: string } }>();
  const transitions = new Map<string, Map<string, number>>();
  const waiters = new Map<string, () => void>();
  const sub = nc.subscribe('session.status-changed');
  void (async () => {
    for await (const message of sub) {
      const { data } = jc.decode(message.data);
      const seen = transitions.get(data.sessionId) ?? new Map<string, number>();
      seen.set(data.to, performance.now());
      transitions.set(data.sessionId, seen);
      if (['completed', 'failed', 'timed_out', 'cancelled'].includes(data.to)) waiters.get(data.sessionId)?.();
    }
  })();

  try {
    const endToEnd: number[] = [];
    const toRunning: number[] = [];
    const runningToDone: number[] = [];
    for (let i = 0; i < SESSIONS + 3; i++) {
      const began = performance.now();
      const response = await fetch(`${stack.gatewayUrl}/api/v1/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'analysis', prompt: 'true', start: true }),
      });
      const { id } = (await response.json()) as { id: string };
      await new Promise<void>((done) => {
        waiters.set(id, done);
        if (transitions.get(id)?.has('completed')) done();
      });
      if (i < 3) continue; // warm-up
      const seen = transitions.get(id)!;
      endToEnd.push(seen.get('completed')! - began);
      toRunning.push(seen.get('running')! - began);
      runningToDone.push(seen.get('completed')! - seen.get('running')!);
    }
    const floor = await dockerFloor();
    console.log(`\n${SESSIONS} sessions, one at a time, prompt "true", image hub/test-agent:latest\n`);
    describe('docker run --rm (the floor)', floor);
    describe('Hub: POST → completed event', endToEnd);
    describe('  of which POST → running', toRunning);
    describe('  of which running → completed', runningToDone);
    console.log(`\noverhead over the floor at p50: ${(percentile(endToEnd, 50) - percentile(floor, 50)).toFixed(0)} ms`);
    const rss = execFileSync('ps', ['-o', 'rss=', '-p', Object.values(stack.services).map((s) => s.pid).join(',')])
      .toString()
      .trim()
      .split(/\s+/)
      .map(Number);
    console.log(`services' resident memory: ${rss.map((kb) => `${(kb / 1024).toFixed(0)} MiB`).join(', ')}`);
  } finally {
    sub.unsubscribe();
    await nc.close();
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
