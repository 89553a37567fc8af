import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_AGENT_USAGE_FILE_BYTES } from '@hub/contracts';
import { RunnerSecrets } from '../secrets/runner-secrets';
import { removeTree } from '../workspace/remove-tree';
import { type AgentUsageOptions, readAgentUsage } from './agent-usage';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const secrets = new RunnerSecrets({ ANTHROPIC_API_KEY: 'sk-ant-canary' }, []);
const dirs: string[] = [];

function outputDir(usage?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'hub-agent-usage-'));
  dirs.push(dir);
  const content = typeof usage === 'string' || Buffer.isBuffer(usage) ? usage : JSON.stringify(usage);
  if (usage !== undefined) writeFileSync(join(dir, 'usage.json'), content);
  return dir;
}

const options = (overrides: Partial<AgentUsageOptions> = {}): AgentUsageOptions => ({
  failed: true,
  wait: { defaultSeconds: 60, maxSeconds: 3600 },
  scrub: (text) => secrets.maskText(text),
  now: NOW,
  ...overrides,
});
const after = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

afterAll(async () => {
  for (const dir of dirs) await removeTree(dir);
});

describe('readAgentUsage', () => {
  it('reads the tokens by kind, their total and the cost', async () => {
    const dir = outputDir({ tokens: { input: 10, output: 20, cacheRead: 300, cacheWrite: 4 }, costUsd: 0.25, model: 'ignored' });

    expect(await readAgentUsage(dir, options())).toEqual({
      usage: { tokens: { input: 10, output: 20, cacheRead: 300, cacheWrite: 4, total: 334 }, costUsd: 0.25 },
      rateLimit: null,
      problem: null,
    });
  });

  it('counts missing kinds as 0, and a missing cost as null', async () => {
    expect((await readAgentUsage(outputDir({ tokens: { output: 7 } }), options())).usage).toEqual({
      tokens: { input: 0, output: 7, cacheRead: 0, cacheWrite: 0, total: 7 },
      costUsd: null,
    });
    expect((await readAgentUsage(outputDir({}), options())).usage?.tokens.total).toBe(0);
  });

  it('reports nothing, and no problem, when the agent left no usage.json', async () => {
    expect(await readAgentUsage(outputDir(), options())).toEqual({ usage: null, rateLimit: null, problem: null });
  });

  it('refuses a symbolic link, even to a valid report, without following it', async () => {
    const target = outputDir({ tokens: { input: 1 } });
    const dir = outputDir();
    symlinkSync(join(target, 'usage.json'), join(dir, 'usage.json'));

    expect(await readAgentUsage(dir, options())).toEqual({ usage: null, rateLimit: null, problem: 'a symbolic link (not followed)' });
  });

  it('refuses what is not a regular file: a directory, a FIFO', async () => {
    const withDir = outputDir();
    mkdirSync(join(withDir, 'usage.json'));
    const withFifo = outputDir();
    execFileSync('mkfifo', [join(withFifo, 'usage.json')]);

    expect((await readAgentUsage(withDir, options())).problem).toBe('not a regular file');
    expect((await readAgentUsage(withFifo, options())).problem).toBe('not a regular file');
  });

  it('ignores a report larger than MAX_AGENT_USAGE_FILE_BYTES, saying so', async () => {
    const padded = JSON.stringify({ tokens: { input: 1 }, pad: 'x'.repeat(MAX_AGENT_USAGE_FILE_BYTES) });

    const read = await readAgentUsage(outputDir(padded), options());

    expect(read.usage).toBeNull();
    expect(read.problem).toBe(`larger than ${MAX_AGENT_USAGE_FILE_BYTES} bytes (${Buffer.byteLength(padded)} bytes)`);
  });

  it('ignores what is not JSON, nor UTF-8', async () => {
    expect((await readAgentUsage(outputDir('{"tokens": {'), options())).problem).toBe('not valid JSON');
    expect((await readAgentUsage(outputDir(Buffer.from([0x7b, 0xff, 0x7d])), options())).problem).toBe('not valid UTF-8');
  });

  it('ignores a report the schema refuses (negative, fractional or absurd counts, a negative cost), naming the field', async () => {
    const negative = await readAgentUsage(outputDir({ tokens: { input: -1 } }), options());
    expect(negative.usage).toBeNull();
    expect(negative.problem).toMatch(/^not a usage report: tokens\.input: /);
    expect((await readAgentUsage(outputDir({ tokens: { output: 1.5 } }), options())).problem).toMatch(/tokens\.output/);
    expect((await readAgentUsage(outputDir({ tokens: { input: 1e13 } }), options())).problem).toMatch(/tokens\.input/);
    expect((await readAgentUsage(outputDir({ costUsd: -0.01 }), options())).problem).toMatch(/^not a usage report: costUsd: /);
    expect((await readAgentUsage(outputDir('[1, 2]'), options())).problem).toMatch(/^not a usage report: /);
  });

  describe('rate limits', () => {
    const limited = (rateLimit: unknown) => outputDir({ tokens: { input: 5 }, rateLimit });

    it("takes the agent's resetAt, with its message", async () => {
      const read = await readAgentUsage(limited({ resetAt: after(600), message: 'usage limit reached' }), options());

      expect(read.rateLimit).toEqual({ resetAt: after(600), message: 'usage limit reached' });
      expect(read.usage?.tokens.total).toBe(5);
    });

    it('takes retryAfterSeconds when there is no resetAt', async () => {
      expect((await readAgentUsage(limited({ retryAfterSeconds: 90 }), options())).rateLimit?.resetAt).toBe(after(90));
    });

    it("waits the runner's default when the agent says neither, and says it had no message", async () => {
      expect((await readAgentUsage(limited({}), options())).rateLimit).toEqual({
        resetAt: after(60),
        message: 'the agent reported a rate or usage limit',
      });
    });

    it("clamps the reset between now and the runner's maximum wait", async () => {
      expect((await readAgentUsage(limited({ resetAt: after(-300) }), options())).rateLimit?.resetAt).toBe(NOW.toISOString());
      expect((await readAgentUsage(limited({ resetAt: after(86_400) }), options())).rateLimit?.resetAt).toBe(after(3600));
      expect((await readAgentUsage(limited({ retryAfterSeconds: 7200 }), options())).rateLimit?.resetAt).toBe(after(3600));
      expect((await readAgentUsage(limited({}), options({ wait: { defaultSeconds: 120, maxSeconds: 30 } }))).rateLimit?.resetAt).toBe(after(30));
    });

    it('strips control characters, masks secrets and keeps 300 characters of the message', async () => {
      const message = `limit\u0007 hit\r\nkey sk-ant-canary\u001b[31m \u202Eevil ${'y'.repeat(400)}`;

      const read = await readAgentUsage(limited({ message }), options());

      expect(read.rateLimit?.message).toMatch(/^limit hit key \[masked:ANTHROPIC_API_KEY\]\[31m evil y+$/);
      expect(read.rateLimit?.message).toHaveLength(300);
    });

    it('ignores a rate limit when the attempt did not fail, but keeps its usage', async () => {
      const read = await readAgentUsage(limited({ resetAt: after(600) }), options({ failed: false }));

      expect(read.rateLimit).toBeNull();
      expect(read.usage?.tokens.input).toBe(5);
    });

    it('ignores the whole report when its rate limit is malformed', async () => {
      const read = await readAgentUsage(limited({ resetAt: 'tomorrow' }), options());

      expect(read).toMatchObject({ usage: null, rateLimit: null });
      expect(read.problem).toMatch(/^not a usage report: rateLimit\.resetAt: /);
    });
  });
});
