import { execFile } from 'node:child_process';
import { createReadStream, readdirSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import express, { type ErrorRequestHandler } from 'express';
import pino from 'pino';
import { ChangeSummary, HTTP_STATUS_OF, HubError, OrchestrationResult, OrchestrationView, OrchestrationViewQuery } from '@hub/contracts';
import { bareRepository, git, InMemoryHubApi, TempDirs, writeFiles } from '@hub/testing';
import { apiTokenGuard } from '../api-token.guard';
import { HttpProblem } from '../http-problem.error';
import { GitHttpBackend, MAX_GIT_REQUEST_BYTES } from './git-http-backend';
import { GitSmartHttp } from './git-smart-http';
import { ChangeBundles, OrchestrationRepositories } from './orchestration-repositories';

/**
 * `git fetch` from Hub with the real git, client and http-backend, over a real HTTP server: the
 * router of the gateway behind its token guard, on an express app of its own (no NATS: the registry
 * is the in-memory Hub, the object store a map of bundle files).
 */

const TOKEN = 'test-token-0123456789abcdef';
const run = promisify(execFile);

/** The in-memory Hub, with an orchestration's recorded result, answering its view one session per page. */
class PagedHub extends InMemoryHubApi {
  readonly results = new Map<string, OrchestrationResult>();

  override async getOrchestration(orchestrationId: string, page: OrchestrationViewQuery = {}): Promise<OrchestrationView> {
    const whole = await super.getOrchestration(orchestrationId);
    const from = Number(page.cursor ?? 0);
    const nextCursor = from + 1 < whole.sessions.length ? String(from + 1) : null;
    return { ...whole, result: this.results.get(orchestrationId) ?? null, sessions: whole.sessions.slice(from, from + 1), nextCursor };
  }
}

/** The object store's bundles, as files; counts what was read. */
class BundleFiles implements ChangeBundles {
  readonly changes = new Map<string, string>();
  readonly bases = new Map<string, string>();
  readonly reads: string[] = [];

  async getChangesBundleStream(key: string): Promise<Readable | null> {
    return this.open(this.changes.get(key), key);
  }

  async getBaseBundleStream(commit: string): Promise<Readable | null> {
    return this.open(this.bases.get(commit), `base ${commit}`);
  }

  private open(file: string | undefined, what: string): Readable | null {
    if (!file) return null;
    this.reads.push(what);
    return createReadStream(file);
  }
}

/** What the gateway's error filter answers, in short. */
const answerErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  const status = error instanceof HttpProblem ? error.status : error instanceof HubError ? HTTP_STATUS_OF[error.code] : 500;
  res
    .status(status)
    .set(error instanceof HttpProblem ? error.headers : {})
    .json({ error: error.code ?? 'internal', message: error.message });
};

describe('git fetch from Hub (git smart HTTP through git http-backend)', () => {
  const temp = new TempDirs();
  const logLines: string[] = [];
  const hub = new PagedHub();
  const bundles = new BundleFiles();
  let stateDir: string;
  let clientHome: string;
  let server: Server;
  let baseUrl: string;
  let orchestrationId: string;
  let base: string;
  const heads: Record<string, string> = {};
  let sessionIds: Record<string, string>;
  let work: string;

  /** git as a user runs it: no configuration of its own, never prompting. */
  const client = (cwd: string, ...args: string[]) =>
    run('git', args, {
      cwd,
      env: { PATH: process.env['PATH'], HOME: clientHome, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
    });
  const repoUrl = (credentials = `hub:${TOKEN}@`) => `http://${credentials}${baseUrl.slice('http://'.length)}/git/${orchestrationId}.git`;

  /** Commits `files` on a branch from the base, bundles base..head as a runner stores it; the summary. */
  function change(name: string, files: Record<string, string>, from = base): ChangeSummary {
    git(work, 'checkout', '--quiet', '-B', name, from);
    writeFiles(work, files);
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', name);
    heads[name] = git(work, 'rev-parse', 'HEAD');
    const bundle = join(temp.make('bundle'), `${name}.bundle`);
    git(work, 'bundle', 'create', '--quiet', bundle, `${base}..HEAD`);
    bundles.changes.set(sessionIds[name] ?? `orchestrations/${orchestrationId}`, bundle);
    return { branch: `hub/${orchestrationId}/${name}`, baseCommit: base, headCommit: heads[name], files: 1, added: 1, removed: 0 };
  }

  beforeAll(async () => {
    stateDir = temp.make('state');
    clientHome = temp.make('home');
    const repository = bareRepository(temp.make('origin'), 'origin', { 'README.md': 'hello\n' });
    work = repository.work;
    base = git(work, 'rev-parse', 'HEAD');
    git(work, 'update-ref', 'refs/hub/base', base);
    const baseBundle = join(temp.make('base'), 'base.bundle');
    git(work, 'bundle', 'create', '--quiet', baseBundle, 'refs/hub/base');
    bundles.bases.set(base, baseBundle);

    const view = await hub.createOrchestration({
      name: 'feature',
      sessions: ['impl-a', 'impl-b', 'late'].map((name) => ({ name, type: 'implementation', prompt: 'p', dependsOn: [] })),
    });
    orchestrationId = view.id;
    sessionIds = Object.fromEntries(view.sessions.map((s) => [s.name!, s.id]));
    hub.sessions.get(sessionIds['impl-a'])!.changes = change('impl-a', { 'a.txt': 'a\n' });
    hub.sessions.get(sessionIds['impl-b'])!.changes = change('impl-b', { 'b.txt': 'b\n' });
    git(work, 'checkout', '--quiet', '-B', 'result', heads['impl-a']);
    git(work, 'merge', '--quiet', '--no-edit', heads['impl-b']);
    const result = change('result', { 'c.txt': 'combined\n' }, 'result');
    hub.results.set(orchestrationId, {
      changes: { ...result, repository: null, sessions: [] },
      reason: null,
      publish: null,
      at: new Date().toISOString(),
    });

    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
    const repositories = new OrchestrationRepositories(hub, bundles, join(stateDir, 'git'), logger);
    const app = express();
    app.set('query parser', 'simple');
    app.use('/git', apiTokenGuard(TOKEN, 'git'), new GitSmartHttp(repositories, new GitHttpBackend(logger)).router());
    app.use(answerErrors);
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    temp.removeAll();
  });

  const remoteRefs = async (dir: string) => {
    const { stdout } = await client(dir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/remotes/hub/');
    return Object.fromEntries(stdout.trim().split('\n').map((line) => line.split(' ')));
  };

  it('serves every branch and the combined result, with the token as the Basic password (protocol v2)', async () => {
    const dir = temp.make('clone');
    await client(dir, 'init', '--quiet');
    await client(dir, 'fetch', '--quiet', repoUrl(), 'refs/heads/*:refs/remotes/hub/*');
    expect(await remoteRefs(dir)).toEqual({
      [`refs/remotes/hub/hub/${orchestrationId}/impl-a`]: heads['impl-a'],
      [`refs/remotes/hub/hub/${orchestrationId}/impl-b`]: heads['impl-b'],
      [`refs/remotes/hub/hub/${orchestrationId}/result`]: heads['result'],
    });
    expect((await client(dir, 'show', `${heads['result']}:c.txt`)).stdout).toBe('combined\n');
    const { stdout } = await client(dir, 'ls-remote', '--symref', repoUrl(), 'HEAD');
    expect(stdout).toContain(`ref: refs/heads/hub/${orchestrationId}/result\tHEAD`);
    expect(bundles.reads.filter((read) => read.startsWith('base'))).toHaveLength(1);
    expect(readdirSync(join(stateDir, 'git')).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('serves protocol v0 too, and a Bearer header (http.extraHeader)', async () => {
    const dir = temp.make('clone');
    await client(dir, 'init', '--quiet');
    await client(
      dir,
      '-c',
      'protocol.version=0',
      '-c',
      `http.extraHeader=Authorization: Bearer ${TOKEN}`,
      'fetch',
      '--quiet',
      repoUrl(''),
      'refs/heads/*:refs/remotes/hub/*',
    );
    expect(Object.values(await remoteRefs(dir)).sort()).toEqual([heads['impl-a'], heads['impl-b'], heads['result']].sort());
  });

  it('brings in what changed since, reading each bundle once', async () => {
    const readsBefore = bundles.reads.length;
    hub.sessions.get(sessionIds['late'])!.changes = change('late', { 'late.txt': 'late\n' });
    const dir = temp.make('clone');
    await client(dir, 'init', '--quiet');
    await client(dir, 'fetch', '--quiet', repoUrl(), 'refs/heads/*:refs/remotes/hub/*');
    expect((await remoteRefs(dir))[`refs/remotes/hub/hub/${orchestrationId}/late`]).toBe(heads['late']);
    expect(bundles.reads.slice(readsBefore)).toEqual([sessionIds['late']]);
  });

  it('leaves out a branch whose bundle is missing or ends elsewhere, says so in the log, and serves the others', async () => {
    const { id } = await hub.createOrchestration({
      name: 'broken',
      sessions: ['missing', 'wrong-head', 'fine'].map((name) => ({ name, type: 'implementation', prompt: 'p', dependsOn: [] })),
    });
    const [missing, wrongHead, fine] = [...hub.sessions.values()].filter((s) => s.orchestrationId === id);
    const elsewhere = heads['impl-a'].replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    const summary = { baseCommit: base, files: 1, added: 1, removed: 0 };
    missing.changes = { ...summary, branch: 'hub/x/missing', headCommit: elsewhere };
    wrongHead.changes = { ...summary, branch: 'hub/x/wrong-head', headCommit: elsewhere };
    bundles.changes.set(wrongHead.id, bundles.changes.get(sessionIds['impl-b'])!);
    fine.changes = { ...summary, branch: 'hub/x/fine', headCommit: heads['impl-a'] };
    bundles.changes.set(fine.id, bundles.changes.get(sessionIds['impl-a'])!);
    const { stdout } = await client(temp.make('clone'), 'ls-remote', repoUrl().replace(orchestrationId, id));
    expect(stdout).toBe(`${heads['impl-a']}\trefs/heads/hub/x/fine\n`);
    const warnings = logLines.map((line) => JSON.parse(line)).filter((line) => line.level === 40);
    expect(warnings.map((line) => line.problem)).toEqual(
      expect.arrayContaining([
        `the bundle of session ${missing.id} is not in the output store`,
        expect.stringMatching(`the changes of session ${wrongHead.id} end at ${heads['impl-b']}, not at their recorded head`),
      ]),
    );
  });

  describe('refusals', () => {
    const basic = `Basic ${Buffer.from(`git:${TOKEN}`).toString('base64')}`;
    const call = async (method: string, path: string, headers: Record<string, string> = { authorization: basic }, body?: Buffer) => {
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
    };
    const infoRefs = () => `/git/${orchestrationId}.git/info/refs?service=git-upload-pack`;

    it('asks for credentials with a Basic challenge, in JSON', async () => {
      const missing = await call('GET', infoRefs(), {});
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Basic realm="Hub"');
      expect(missing.body).toEqual({ error: 'unauthorized', message: expect.stringMatching(/^missing credentials/) });
      const wrong = await call('GET', infoRefs(), { authorization: `Basic ${Buffer.from('git:wrong').toString('base64')}` });
      expect(wrong).toMatchObject({ status: 401, body: { message: 'invalid API token' } });
      await expect(client(temp.make('clone'), 'ls-remote', repoUrl('hub:wrong@'))).rejects.toThrow(/Authentication failed/);
    });

    it('refuses anything about pushing', async () => {
      const advertise = await call('GET', `/git/${orchestrationId}.git/info/refs?service=git-receive-pack`);
      expect(advertise).toMatchObject({ status: 403, body: { error: 'forbidden', message: expect.stringMatching(/read-only/) } });
      expect((await call('POST', `/git/${orchestrationId}.git/git-receive-pack`)).status).toBe(403);
      const dir = temp.make('clone');
      await client(dir, 'init', '--quiet');
      await client(dir, '-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '--allow-empty', '-m', 'x');
      await expect(client(dir, 'push', repoUrl(), 'HEAD:refs/heads/pushed')).rejects.toThrow(/403/);
    });

    it('answers 404 for other paths, names that are not an orchestration, and unknown orchestrations', async () => {
      expect((await call('GET', `/git/${orchestrationId}.git/HEAD`)).status).toBe(404);
      expect((await call('GET', `/git/${orchestrationId}.git/info/refs`)).body).toMatchObject({ message: expect.stringMatching(/only git's smart HTTP/) });
      const notUuid = await call('GET', '/git/..%2F..%2Fetc.git/info/refs?service=git-upload-pack');
      expect(notUuid).toMatchObject({ status: 404, body: { message: expect.stringMatching(/Hub serves \/git\/<orchestration id>\.git/) } });
      expect((await call('GET', `/git/${orchestrationId.toUpperCase()}.git/info/refs?service=git-upload-pack`)).status).toBe(404);
      const unknown = await call('GET', '/git/00000000-0000-4000-8000-000000000000.git/info/refs?service=git-upload-pack');
      expect(unknown).toMatchObject({ status: 404, body: { error: 'not_found' } });
      expect((await call('POST', '/git/00000000-0000-4000-8000-000000000000.git/git-upload-pack')).status).toBe(404);
    });

    it('takes a gzip request (ls-refs, protocol v2) and advertises no Hub-internal ref', async () => {
      await call('GET', infoRefs());
      const lsRefs = Buffer.from('0014command=ls-refs\n00010000');
      const answer = await call(
        'POST',
        `/git/${orchestrationId}.git/git-upload-pack`,
        { authorization: basic, 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip', 'git-protocol': 'version=2' },
        gzipSync(lsRefs),
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/x-git-upload-pack-result');
      expect(answer.text).toContain(`${heads['result']} refs/heads/hub/${orchestrationId}/result`);
      expect(answer.text).not.toContain('refs/hub/');
    });

    it('refuses a body over the limit, announced or streamed', async () => {
      await call('GET', infoRefs());
      const headers = { authorization: basic, 'content-type': 'application/x-git-upload-pack-request' };
      const announced = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${baseUrl}/git/${orchestrationId}.git/git-upload-pack`, {
          method: 'POST',
          headers: { ...headers, 'content-length': String(MAX_GIT_REQUEST_BYTES + 1) },
        });
        req.on('response', (res) => resolve(res.statusCode!)).on('error', reject);
        req.flushHeaders();
      });
      expect(announced).toBe(413);
      const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${baseUrl}/git/${orchestrationId}.git/git-upload-pack`, { method: 'POST', headers });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk)).on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', (error) => (error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? undefined : reject(error)));
        const chunk = Buffer.alloc(1024 * 1024, 'a');
        for (let i = 0; i <= MAX_GIT_REQUEST_BYTES / chunk.length; i++) req.write(chunk);
        req.end();
      });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body)).toEqual({ error: 'payload_too_large', message: expect.stringMatching(/larger than the limit/) });
    });
  });
});
