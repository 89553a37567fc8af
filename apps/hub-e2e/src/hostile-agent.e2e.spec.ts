import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { SessionOutput } from '@hub/contracts';
import { containersOf, expectRemoved, waitUntil } from './support/docker';
import { startTestStack, type TestStack } from './support/test-stack';

// An agent is untrusted code: each test here is a session that prints, writes or names what an
// attacker (or a buggy agent) would, run as a normal session of the test agent on the real stack,
// followed by an ordinary session that must still complete.

const MiB = 1024 * 1024;
const LOG_CAP_MB = 8;

/** The peak resident memory of a process (VmHWM), in bytes. */
function peakRssOf(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Bytes used on disk under a host directory (0 when it does not exist). */
function diskUseOf(dir: string): number {
  if (!existsSync(dir)) return 0;
  return Number(execFileSync('du', ['-s', '-B1', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\t')[0]);
}

/** Regular files under a host directory, at any depth. */
function filesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  return execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * MiB })
    .split('\n')
    .filter(Boolean).length;
}

/** The runner removes a session's directory right after its container. */
async function expectNothingLeftOf(sessionDir: string): Promise<void> {
  await waitUntil(`${sessionDir} is removed`, async () => !existsSync(sessionDir), 10_000);
}

describe('a hostile agent cannot take Hub down', () => {
  let hub: TestStack;
  let dataDir: string;

  beforeAll(async () => {
    hub = await startTestStack({
      HUB_LOG_CAP_MB: String(LOG_CAP_MB),
      HUB_OUTPUT_QUOTA_MB: '1024',
      HUB_RECONCILE_INTERVAL_SECONDS: '2',
    });
    dataDir = join(hub.stack.logDir, '..', 'data');
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
  });

  /** An ordinary session after the hostile one: Hub still runs work. */
  async function expectAnOrdinarySessionCompletes(): Promise<void> {
    const session = await hub.api.createSession({ prompt: 'echo still here', start: true });
    const done = await hub.api.waitForStatus(session.id, undefined, 60_000);
    expect([done.status, done.statusReason]).toEqual(['completed', 'exited with code 0']);
  }

  it('keeps the first part of a 1 GiB log, says how much it dropped, and the runner stays small', async () => {
    const runnerPid = hub.stack.services['container-runner'].pid!;
    const session = await hub.api.createSession({
      prompt: `yes 'a line of the log that repeats until a gibibyte was printed' | head -c ${1024 * MiB}; echo done`,
      timeoutSeconds: 600,
      start: true,
    });

    const done = await hub.api.waitForStatus(session.id, undefined, 300_000);

    expect(done.status).toBe('completed');
    expect(done.statusReason).toMatch(/^exited with code 0: log truncated: kept the first 8\.0 MiB, dropped 1016 MiB over the log cap/);
    expect(done.log).toEqual({ bytes: LOG_CAP_MB * MiB, droppedBytes: 1024 * MiB + 'done\n'.length - LOG_CAP_MB * MiB });
    const log = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`);
    expect(log.status).toBe(200);
    expect(Buffer.byteLength(log.text)).toBe(LOG_CAP_MB * MiB);
    expect(log.text.startsWith('a line of the log that repeats')).toBe(true);
    expect(hub.stack.services['container-runner'].pid).toBe(runnerPid); // never restarted
    const peak = peakRssOf(runnerPid);
    console.log(`1 GiB log: ${done.finishedAt && done.startedAt ? Date.parse(done.finishedAt) - Date.parse(done.startedAt) : '?'} ms; runner peak RSS ${(peak / MiB).toFixed(0)} MiB`);
    expect(peak).toBeLessThan(300 * MiB);
    await expectRemoved(session.id);
    await expectAnOrdinarySessionCompletes();
  }, 400_000);

  it('lists 1,000 output files with 1,000-character paths, hands them to a dependent, and cancels such a session', async () => {
    const runnerLog = join(hub.stack.logDir, 'container-runner.log');
    const logFrom = readFileSync(runnerLog).length;
    // Four 240-character directories and a 40-character name: paths of 1,004 characters, a 1 MB list.
    const writeFiles = [
      `d=$(printf 'd%.0s' $(seq 1 240)); d="$d/$d/$d/$d"; mkdir -p "/hub/output/$d"`,
      `i=0; while [ $i -lt 1000 ]; do echo $i > "/hub/output/$d/$(printf 'file-%035d' $i)"; i=$((i+1)); done`,
    ].join('\n');
    const orchestration = await hub.api.createOrchestration({
      name: 'many-long-paths',
      sessions: [
        { name: 'producer', prompt: writeFiles },
        { name: 'consumer', prompt: 'find /hub/inputs/producer -type f | wc -l > /hub/output/count.txt', dependsOn: ['producer'] },
      ],
      start: true,
    });
    const ended = await hub.api.waitForOrchestration(orchestration.id, 120_000);
    const producer = ended.sessions.find((s) => s.name === 'producer')!;
    const consumer = ended.sessions.find((s) => s.name === 'consumer')!;
    expect([producer.status, consumer.status]).toEqual(['completed', 'completed']);
    expect(producer.output).toMatchObject({ files: 1000, skipped: 0 });

    const listing = await hub.api.request<SessionOutput>('GET', `/api/v1/sessions/${producer.id}/output`);
    expect(listing.status).toBe(200);
    expect(listing.body.files).toHaveLength(1000);
    expect(listing.body.files.every((file) => file.path.length === 4 * 241 + 40)).toBe(true);
    const count = await hub.api.request('GET', `/api/v1/sessions/${consumer.id}/output/files/count.txt`);
    expect(count.text.trim()).toBe('1000');

    // The same, still running: a cancel reaches it.
    const running = await hub.api.createSession({ prompt: `${writeFiles}\nsleep 60`, start: true });
    await hub.api.waitForStatus(running.id, ['running']);
    await waitUntil('the files are written', async () => filesUnder(join(dataDir, 'sessions', running.id, 'attempt-1', 'output')) >= 1000);
    expect((await hub.api.request('POST', `/api/v1/sessions/${running.id}/cancel`)).status).toBe(202);
    const cancelled = await hub.api.waitForStatus(running.id, undefined, 30_000);
    expect(cancelled.status).toBe('cancelled');

    // Reconciliation (every 2 s here) read those sessions without a failure.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(readFileSync(runnerLog).subarray(logFrom).toString('utf8')).not.toMatch(/reconciliation failed/);
    await expectAnOrdinarySessionCompletes();
  }, 300_000);

  it('runs the agent on a read-only root filesystem: /tmp, HOME, /workspace and /hub/output are where it writes', async () => {
    const session = await hub.api.createSession({
      prompt: [
        // Each refusal is handled: the session goes on.
        'touch /etc/x 2>&1 || echo "refused /etc/x"',
        'touch /usr/bin/x 2>&1 || echo "refused /usr/bin/x"',
        "mkdir /usr/bin 2>&1 || echo 'refused /usr/bin'",
        '{ echo > /x; } 2>&1 || echo "refused /x"',
        'echo t > /tmp/t && echo h > "$HOME/h" && echo w > /workspace/w && echo o > /hub/output/o.txt && echo "wrote /tmp, HOME=$HOME, /workspace, /hub/output"',
        // /tmp is executable (agents run the tools they build or fetch there), and bounded (HUB_CONTAINER_TMPFS_MB).
        "printf '#!/bin/sh\\necho ran from /tmp\\n' > /tmp/tool && chmod +x /tmp/tool && /tmp/tool",
        'grep " /tmp " /proc/mounts | cut -d" " -f4',
        'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status',
      ].join('\n'),
      start: true,
    });

    const done = await hub.api.waitForStatus(session.id, undefined, 60_000);

    expect([done.status, done.statusReason]).toEqual(['completed', 'exited with code 0']);
    const log = (await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`)).text;
    expect(log.split('\n')).toEqual([
      'touch: /etc/x: Read-only file system',
      'refused /etc/x',
      'touch: /usr/bin/x: No such file or directory', // the image has no /usr/bin, and it cannot be made:
      'refused /usr/bin/x',
      "mkdir: can't create directory '/usr/bin': Read-only file system",
      'refused /usr/bin',
      "/hub/prompt: line 4: can't create /x: Read-only file system",
      'refused /x',
      'wrote /tmp, HOME=/tmp, /workspace, /hub/output',
      'ran from /tmp',
      'rw,nosuid,nodev,relatime,size=524288k', // 512 MiB, HUB_CONTAINER_TMPFS_MB's default; not noexec
      'NoNewPrivs:\t1',
      'Seccomp:\t2', // Docker's default profile, filtering
      '',
    ]);
    const output = await hub.api.request<SessionOutput>('GET', `/api/v1/sessions/${session.id}/output`);
    expect(output.body.files.map((file) => file.path)).toEqual(['o.txt']);
    await expectRemoved(session.id);
  });

  it('hands a 190,000-character prompt to the agent intact', async () => {
    const prompt = `cp /hub/prompt /hub/output/prompt.txt\n# ${'x'.repeat(190_000 - 40)}\n`;
    const session = await hub.api.createSession({ prompt, start: true });

    const done = await hub.api.waitForStatus(session.id, undefined, 60_000);

    expect(done.status).toBe('completed');
    const output = await hub.api.request<SessionOutput>('GET', `/api/v1/sessions/${session.id}/output`);
    expect(output.body.files).toEqual([
      { path: 'prompt.txt', size: Buffer.byteLength(prompt), sha256: createHash('sha256').update(prompt).digest('hex') },
    ]);
  });

  it('fails a session that writes 2 GiB with a 1 GiB quota, and leaves nothing on the runner disk', async () => {
    const before = diskUseOf(join(dataDir, 'sessions'));
    const session = await hub.api.createSession({ prompt: `head -c ${2048 * MiB} /dev/zero > /hub/output/big.bin; echo wrote`, start: true });

    const done = await hub.api.waitForStatus(session.id, undefined, 120_000);

    expect(done.status).toBe('failed');
    expect(done.statusReason).toMatch(/^quota_exceeded: wrote more than the output quota of 1\.0 GiB to \/hub\/output/);
    expect(done.statusReason).not.toContain(dataDir);
    await expectRemoved(session.id);
    await expectNothingLeftOf(join(dataDir, 'sessions', session.id));
    expect(diskUseOf(join(dataDir, 'sessions'))).toBeLessThanOrEqual(before);
    await expectAnOrdinarySessionCompletes();
  }, 200_000);

  it('names an output tree too deep to read without the runner host path, and removes it', async () => {
    // 40 levels of 120 characters: deeper than the 4,096 characters a host path may have.
    const session = await hub.api.createSession({
      prompt: [
        `d=$(printf 'n%.0s' $(seq 1 120)); cd /hub/output; echo kept > kept.txt`,
        `i=0; while [ $i -lt 40 ]; do mkdir "$d" && cd "$d"; i=$((i+1)); done; echo deep > deep.txt`,
      ].join('\n'),
      start: true,
    });

    const done = await hub.api.waitForStatus(session.id, undefined, 60_000);

    expect(done.status).toBe('completed');
    expect(done.statusReason).toMatch(/output not kept: /);
    expect(done.statusReason).not.toContain(dataDir);
    const output = await hub.api.request<SessionOutput>('GET', `/api/v1/sessions/${session.id}/output`);
    expect(output.body.files.map((f) => f.path)).toEqual(['kept.txt']);
    expect(output.body.skippedCount).toBeGreaterThan(0);
    await expectRemoved(session.id);
    await expectNothingLeftOf(join(dataDir, 'sessions', session.id));
  });

  it('honours a cancel accepted while the runner was down: the adopted container is stopped', async () => {
    const session = await hub.api.createSession({ prompt: 'echo started; sleep 60; echo never', start: true });
    await hub.api.waitForStatus(session.id, ['running']);
    const [container] = await containersOf(session.id);
    const runner = hub.stack.services['container-runner'];

    await runner.kill({ restartAfterMs: 4_000 });
    const accepted = await hub.api.request('POST', `/api/v1/sessions/${session.id}/cancel`);
    expect(accepted.status).toBe(202);
    await runner.whenRunning({ timeoutMs: 30_000 });

    const done = await hub.api.waitForStatus(session.id, undefined, 30_000);
    expect(done.status).toBe('cancelled');
    expect(done.containerId).toBe(container.Id);
    const log = await hub.api.request('GET', `/api/v1/sessions/${session.id}/logs`);
    expect(log.text).toContain('started');
    expect(log.text).not.toContain('never');
    await expectRemoved(session.id);
    await expectAnOrdinarySessionCompletes();
  });
});
