import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { makeTempDir } from '@hub/infra';
import { createBareRepository } from './support/git-repository';
import { startTestStack, type TestStack } from './support/test-stack';
import { TmuxTerminal } from './support/tmux-terminal';

// The hub CLI as a person uses it: typed into a terminal (tmux, read back with capture-pane) that
// finds the gateway through .hub/cli.json in its directory, and piped into other programs.

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const HUB = join(WORKSPACE_ROOT, 'apps/hub-cli/bin/hub.js');
const PIPELINE = join(WORKSPACE_ROOT, 'examples/review-pipeline.yaml');
const ESCAPE = '\x1b';

/** The environment of a fresh login: no HUB_* variables, so only the config file points at Hub. */
const personsEnv = (): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: process.env['HOME'] ?? '/root',
  LANG: 'C.UTF-8',
  TERM: 'xterm-256color',
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `hub …` with its stdout and stderr piped (not a terminal). */
function hubPiped(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [HUB, ...args], { cwd, env: personsEnv(), maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The session ids of an orchestration, by name, read with `hub ls --json`. */
async function sessionIds(cwd: string, orchestrationId: string): Promise<Record<string, string>> {
  const listed = await hubPiped(cwd, 'ls', '--orchestration', orchestrationId, '--json');
  const page = JSON.parse(listed.stdout) as { items: { id: string; name: string }[] };
  return Object.fromEntries(page.items.map((s) => [s.name, s.id]));
}

const orchestrationIdIn = (text: string) => /orchestration .+ ([0-9a-f-]{36}): \d+ sessions?, started/.exec(text)?.[1];

describe('the hub CLI', () => {
  let hub: TestStack;
  let cwd: string;
  let repository: string;
  let roots: string;
  let tmuxSocket: string;

  beforeAll(async () => {
    if (!TmuxTerminal.installed()) throw new Error('tmux is not installed: bash scripts/ensure-deps.sh installs it');
    tmuxSocket = join(await makeTempDir('hub-cli-tmux'), 'tmux.sock');
    roots = await makeTempDir('hub-cli-repos');
    repository = join(roots, 'app.git');
    createBareRepository(repository, { 'src/a.sh': 'a() { echo 1; }\n', 'src/b.sh': 'b() { echo 2; }\n' });
    hub = await startTestStack({ HUB_LOCAL_REPOSITORY_ROOTS: roots });
    // A project directory set up as `npm run hub` sets up the repository's: .hub/cli.json names the
    // gateway and the token file beside it.
    cwd = await makeTempDir('hub-cli-project');
    await mkdir(join(cwd, '.hub'));
    await writeFile(join(cwd, '.hub', 'api-token'), `${hub.stack.apiToken}\n`, { mode: 0o600 });
    await writeFile(join(cwd, '.hub', 'cli.json'), JSON.stringify({ url: hub.stack.gatewayUrl, tokenFile: 'api-token' }), { mode: 0o600 });
  }, 180_000);

  afterAll(async () => {
    if (tmuxSocket) TmuxTerminal.closeAll(tmuxSocket);
    await hub?.stop();
    for (const dir of [cwd, roots, tmuxSocket && dirname(tmuxSocket)]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('submit --watch in a terminal: a live tree, redrawn in place as statuses change, exit 0 when it completed', async () => {
    const terminal = await TmuxTerminal.open(tmuxSocket, cwd, personsEnv());
    terminal.type(`node ${HUB} submit ${PIPELINE} --watch; echo "exit=$?"`);

    const { screen, seen } = await terminal.waitFor(/exit=\d+/);

    // While it ran: sessions were seen running, then completed, in the tree, with the cursor hidden.
    const during = seen.filter(({ screen: s }) => !/exit=\d/.test(s));
    expect(during.some(({ screen: s }) => /├─ ● implementation +running +\d/.test(s))).toBe(true);
    expect(during.some(({ screen: s }) => /✔ analysis +completed/.test(s) && /review +waiting/.test(s))).toBe(true);
    expect(during.some(({ cursorVisible }) => !cursorVisible)).toBe(true);
    // At the end: the one tree (drawn over itself, not appended), everything completed, the result, exit 0.
    expect(screen).toMatch(/^review-pipeline example {2}[0-9a-f-]{36} {2}completed {2}\d/m);
    expect(screen).toContain('4 sessions: ✔ 4 completed');
    expect(screen).toMatch(
      new RegExp(
        [
          '✔ analysis +completed +[\\d.]+s',
          '├─ ✔ implementation +completed +[\\d.]+s',
          '│  └─ ✔ review +completed +[\\d.]+s  ← implementation, tests',
          '└─ ✔ tests +completed +[\\d.]+s',
          'result: no session changed anything',
          'exit=0',
        ].join('\\n'),
      ),
    );
    expect(screen.match(/implementation/g)).toHaveLength(2); // the tree once, and its dependency note
    expect(terminal.cursorVisible()).toBe(true);
    // In colour on a terminal: completed is green.
    expect(terminal.screen({ escapes: true })).toMatch(/\x1b\[32m(\x1b\[[0-9;]*m)*✔ implementation/);
  });

  it('a failing DAG: exits non-zero, naming the session that failed and why, and what it made skip', async () => {
    const file = join(cwd, 'failing.yaml');
    await writeFile(
      file,
      [
        'name: failing-dag',
        'sessions:',
        '  - { name: plan, prompt: "echo planning" }',
        '  - { name: impl-a, dependsOn: [plan], prompt: "echo broken; exit 3" }',
        '  - { name: impl-b, dependsOn: [plan], prompt: "sleep 1" }',
        '  - { name: review, dependsOn: [impl-a, impl-b], prompt: "true" }',
      ].join('\n'),
    );
    const terminal = await TmuxTerminal.open(tmuxSocket, cwd, personsEnv());
    terminal.type(`node ${HUB} submit failing.yaml --watch; echo "exit=$?"`);

    const { screen } = await terminal.waitFor(/exit=\d+/);

    expect(screen).toMatch(/├─ ✖ impl-a +failed +[\d.]+s  exited with code 3/);
    expect(screen).toMatch(/│  └─ ↷ review +skipped +← impl-a, impl-b  impl-a \([0-9a-f-]{36}\) failed/);
    expect(screen).toContain('1 session did not complete:');
    expect(screen).toMatch(/ {2}✖ impl-a failed: exited with code 3.* \(1 skipped because of it\)/);
    expect(screen).toContain('hub: orchestration failing-dag failed');
    expect(screen).toContain('exit=1');
  });

  it('piped, submit --watch prints one plain line per status change: no colour, no cursor movement', async () => {
    const run = await hubPiped(cwd, 'submit', PIPELINE, '--watch');

    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(ESCAPE);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^orchestration review-pipeline example [0-9a-f-]{36}: 4 sessions, started$/);
    const changes = lines.filter((line) => /^\d\d:\d\d:\d\d /.test(line)).map((line) => line.slice(9));
    // Read again at most every 250 ms: a state shorter than that may pass unseen.
    for (const name of ['implementation', 'tests']) expect(changes).toContainEqual(`${name} running`);
    const completed = (name: string) => changes.findIndex((c) => new RegExp(`^${name} completed after [\\d.]+s$`).test(c));
    for (const name of ['analysis', 'implementation', 'tests', 'review']) expect({ name, seen: completed(name) >= 0 }).toEqual({ name, seen: true });
    expect(completed('review')).toBeGreaterThan(completed('implementation'));
    expect(changes[changes.length - 1]).toBe('orchestration review-pipeline example completed');
    expect(lines[lines.length - 1]).toBe('result: no session changed anything');
  });

  it('the other commands: ls, get, logs, output, changes (with a combined result), cancel; errors exit 1 with the HTTP status', async () => {
    const file = join(cwd, 'changes.yaml');
    await writeFile(
      file,
      JSON.stringify({
        name: 'cli-changes',
        publish: { branch: 'feature/cli' },
        sessions: [
          { name: 'impl-a', repository, prompt: "sed -i 's/echo 1/echo 10/' src/a.sh; echo 'edited a' > /hub/output/notes.md" },
          { name: 'impl-b', repository, prompt: "sed -i 's/echo 2/echo 20/' src/b.sh" },
        ],
      }),
    );
    const submitted = await hubPiped(cwd, 'submit', file, '--watch');
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toMatch(/result: hub\/cli-changes\/\S+ in .*app\.git: 2 files changed, \+2 −2 \(from impl-a, impl-b\)/);
    expect(submitted.stdout).toMatch(/publish: pushed to feature\/cli at [0-9a-f]{12}/);
    const orchestrationId = orchestrationIdIn(submitted.stdout)!;
    const ids = await sessionIds(cwd, orchestrationId);

    const orchestrations = await hubPiped(cwd, 'ls', 'orchestrations');
    expect(orchestrations.stdout).toMatch(new RegExp(`^${orchestrationId}  cli-changes +completed +\\d+[smh] +2: 2 completed$`, 'm'));
    const got = await hubPiped(cwd, 'get', orchestrationId);
    expect(got.stdout).toMatch(/^✔ impl-a +completed/m);
    const session = await hubPiped(cwd, 'get', ids['impl-a']);
    expect(session.stdout).toMatch(/^changes +hub\/.+\/impl-a: 1 file, \+1 −1/m);

    expect((await hubPiped(cwd, 'logs', ids['impl-a'])).code).toBe(0);
    const outputDir = join(cwd, 'out');
    expect(await hubPiped(cwd, 'output', ids['impl-a'], '--dir', outputDir)).toMatchObject({ code: 0 });
    expect(await readFile(join(outputDir, 'notes.md'), 'utf8')).toBe('edited a\n');

    const sessionDiff = await hubPiped(cwd, 'changes', ids['impl-a']);
    expect(sessionDiff.stdout).toContain('+a() { echo 10; }');
    const combinedDiff = await hubPiped(cwd, 'changes', orchestrationId);
    expect(combinedDiff.stdout).toContain('+a() { echo 10; }');
    expect(combinedDiff.stdout).toContain('+b() { echo 20; }');

    const missing = await hubPiped(cwd, 'logs', '00000000-0000-4000-8000-000000000000');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/^hub: .*00000000-0000-4000-8000-000000000000.* \(HTTP 404 not_found\)\n$/);

    const long = join(cwd, 'long.yaml');
    await writeFile(long, 'name: long\nsessions:\n  - { name: sleeper, prompt: "sleep 60" }\n');
    const started = await hubPiped(cwd, 'submit', long);
    const longId = orchestrationIdIn(started.stdout)!;
    const sleeper = (await sessionIds(cwd, longId))['sleeper'];
    await hub.api.waitForStatus(sleeper, ['running']);
    expect((await hubPiped(cwd, 'cancel', longId)).stdout).toMatch(new RegExp(`^cancel requested: orchestration long ${longId}`));
    expect((await hubPiped(cwd, 'watch', longId)).code).toBe(1);
    expect((await hub.api.getSession(sleeper)).status).toBe('cancelled');
  });

  it('hub events in a terminal: the status changes of a running orchestration, a line each, from its creation; Ctrl-C ends it cleanly', async () => {
    const file = join(cwd, 'eventful.yaml');
    await writeFile(file, 'name: eventful\nsessions:\n  - { name: first, prompt: "true" }\n  - { name: second, dependsOn: [first], prompt: "sleep 60" }\n');
    const orchestrationId = orchestrationIdIn((await hubPiped(cwd, 'submit', file)).stdout)!;
    const terminal = await TmuxTerminal.open(tmuxSocket, cwd, personsEnv());
    terminal.type(`node ${HUB} events --orchestration ${orchestrationId}; echo "exit=$?"`);

    const { screen } = await terminal.waitFor(/session\.status-changed +second +starting → running/);

    // Time, subject, session, what it says (a status change ends with its reason).
    const line = (subject: string, says: string) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${subject.replace('.', '\\.')} +${says}( {2}.+)?$`, 'm');
    expect(screen).toMatch(line('session.created', 'first +[\\w-]+, hub/test-agent:latest'));
    expect(screen).toMatch(line('session.status-changed', 'first +created → waiting'));
    expect(screen).toMatch(line('session.status-changed', 'first +running → completed  exited with code 0'));
    expect(screen).toMatch(line('container.exited', 'first +attempt 1 exited with code 0 after [\\d.]+s'));
    expect(screen).toMatch(line('deps.resolved', 'second'));
    expect(screen).toMatch(line('container.started', 'second +attempt 1 on \\S+'));
    // In the order they happened.
    expect(screen.indexOf('first           running → completed')).toBeLessThan(screen.indexOf('second          waiting → ready'));

    terminal.press('C-c');
    const { screen: stopped } = await terminal.waitFor(/exit=\d+/);
    expect(stopped).toMatch(/^stopped after event (\d+) \(--after \1 goes on from there\)$/m);
    expect(stopped).toContain('exit=0');
    expect(stopped).not.toContain('hub: ');
    await hubPiped(cwd, 'cancel', orchestrationId);
  });

  it('hub retry --watch runs again what failed (a retry is a new run: HUB_ATTEMPT goes on counting) and exits 0 once it completed; hub rerun runs a session again', async () => {
    const file = join(cwd, 'flaky.yaml');
    await writeFile(
      file,
      [
        'name: flaky',
        'sessions:',
        '  - { name: setup, prompt: "true" }',
        '  - { name: flaky, dependsOn: [setup], prompt: \'test "$HUB_ATTEMPT" -gt 1\' }',
        '  - { name: report, dependsOn: [flaky], prompt: "true" }',
      ].join('\n'),
    );
    const failed = await hubPiped(cwd, 'submit', file, '--watch');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('hub: orchestration flaky failed\n');
    const orchestrationId = orchestrationIdIn(failed.stdout)!;

    const retried = await hubPiped(cwd, 'retry', orchestrationId, '--watch');

    expect(retried).toMatchObject({ code: 0, stderr: '' });
    const lines = retried.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      `retried orchestration flaky ${orchestrationId}: 2 sessions run again`,
      '  ✖ flaky (failed: exited with code 1)',
      expect.stringMatching(/^ {2}↷ report \(skipped: flaky \([0-9a-f-]{36}\) failed/),
    ]);
    const changes = lines.filter((line) => /^\d\d:\d\d:\d\d /.test(line)).map((line) => line.slice(9));
    expect(changes).toContainEqual(expect.stringMatching(/^flaky completed after [\d.]+s$/));
    expect(changes).toContainEqual(expect.stringMatching(/^report completed after [\d.]+s$/));
    expect(changes[changes.length - 1]).toBe('orchestration flaky completed');
    expect(lines[lines.length - 1]).toBe('result: no session changed anything');
    const ids = await sessionIds(cwd, orchestrationId);
    const flaky = JSON.parse((await hubPiped(cwd, 'get', ids['flaky'], '--json')).stdout) as { attempt: number; attempts: { status: string }[] };
    expect(flaky).toMatchObject({ attempt: 2, attempts: [{ status: 'failed' }, { status: 'completed' }] });

    const rerun = await hubPiped(cwd, 'rerun', ids['setup']);
    expect(rerun).toMatchObject({ code: 0, stderr: '' });
    expect(rerun.stdout).toBe(`re-ran session setup ${ids['setup']}: 1 session runs again\n  ✔ setup (completed)\nfollow it: hub watch ${orchestrationId}\n`);
    expect((await hubPiped(cwd, 'watch', orchestrationId)).code).toBe(0);
    expect((await hub.api.getSession(ids['setup'])).attempt).toBe(2);
  });

  it('Ctrl-C stops the watch, gives the terminal back (cursor shown) and leaves the orchestration running', async () => {
    const file = join(cwd, 'sleepy.yaml');
    await writeFile(file, 'name: sleepy\nsessions:\n  - { name: sleeper, prompt: "sleep 60" }\n');
    const terminal = await TmuxTerminal.open(tmuxSocket, cwd, personsEnv());
    terminal.type(`node ${HUB} submit sleepy.yaml --watch; echo "exit=$?"`);
    const { screen: running } = await terminal.waitFor(/● sleeper +running/);
    expect(terminal.cursorVisible()).toBe(false);

    terminal.press('C-c');
    const { screen } = await terminal.waitFor(/exit=\d+/);

    expect(screen).toMatch(/hub: stopped watching; the orchestration goes on \(hub cancel [0-9a-f-]{36} stops it\)/);
    expect(screen).toContain('exit=130');
    expect(terminal.cursorVisible()).toBe(true);
    const orchestrationId = orchestrationIdIn(running)!;
    expect((await hub.api.getOrchestration(orchestrationId)).status).toBe('running');
    await hubPiped(cwd, 'cancel', orchestrationId);
  });
});
