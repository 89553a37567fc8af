import { cpus, hostname, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { CommonConfigSchema } from '@hub/config';
import { DEFAULT_EGRESS, EgressPolicy, RUNNER_ID_PATTERN, RunnerLabelsSchema, RUNNERS_BUCKET } from '@hub/contracts';
import {
  DEFAULT_JANITOR_GRACE_SECONDS,
  DEFAULT_JANITOR_INTERVAL_SECONDS,
  ImageEnvironment,
  parseEgressOverrides,
  parseImagePacing,
} from '@hub/runner';

const MB = 1024 * 1024;

export const RunnerConfigSchema = CommonConfigSchema.extend({
  HUB_RUNNER_ID: z.string().regex(RUNNER_ID_PATTERN).default(`runner-${hostname()}`.slice(0, 64)),
  /** Default: two containers per core, fewer if memory would not hold them at their limit. */
  HUB_RUNNER_SLOTS: z.coerce.number().int().min(1).max(1000).optional(),
  /**
   * This runner's labels, comma-separated (e.g. `gpu,large`): it runs only the sessions whose
   * runnerLabels it has every one of (and those that require none); others go to another runner.
   */
  HUB_RUNNER_LABELS: z
    .string()
    .default('')
    .transform((spec, ctx) => {
      const parsed = RunnerLabelsSchema.safeParse(spec.split(',').map((label) => label.trim()).filter(Boolean));
      if (parsed.success) return parsed.data;
      ctx.addIssue({ code: 'custom', message: `must be comma-separated labels: ${parsed.error.issues.map((issue) => issue.message).join('; ')}` });
      return z.NEVER;
    }),
  HUB_DATA_DIR: z.string().default('.hub/data').transform((dir) => resolve(dir)),
  HUB_ALLOWED_IMAGES: z.string().default('hub/*'),
  HUB_DEFAULT_IMAGE: z.string().default('hub/test-agent:latest'),
  HUB_CONTAINER_USER: z.string().regex(/^[1-9]\d*:\d+$/, 'must be uid:gid of a non-root user, e.g. 1000:1000').default('1000:1000'),
  HUB_CONTAINER_MEMORY_MB: z.coerce.number().int().min(16).default(2048),
  HUB_CONTAINER_CPUS: z.coerce.number().min(0.1).max(64).default(1),
  HUB_CONTAINER_PIDS: z.coerce.number().int().min(16).default(512),
  /** The size of each session container's /tmp, a tmpfs (its root filesystem is read-only); it counts against its memory. */
  HUB_CONTAINER_TMPFS_MB: z.coerce.number().int().min(1).max(1_048_576).default(512),
  /** How often the runner matches its containers against the sessions it holds (also at start). */
  HUB_RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** How often it puts its heartbeat (NATS KV hub_runners): the registry's lease on its sessions (HUB_RUNNER_LEASE_GRACE_SECONDS) waits at least two. */
  HUB_RUNNER_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(RUNNERS_BUCKET.maxAgeMs / 2000).default(RUNNERS_BUCKET.heartbeatEveryMs / 1000),
  /** How often the janitor removes what runners that are gone left (also at start); 0: never. */
  HUB_JANITOR_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(DEFAULT_JANITOR_INTERVAL_SECONDS),
  /**
   * How long a container of a gone runner (since it finished; a running one since the janitor saw its
   * runner gone) or a session directory nobody has (since it last changed) is left before it goes.
   */
  HUB_JANITOR_GRACE_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(DEFAULT_JANITOR_GRACE_SECONDS),
  HUB_STOP_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(10),
  HUB_MAX_OUTPUT_FILES: z.coerce.number().int().min(0).default(1000),
  HUB_MAX_OUTPUT_MB: z.coerce.number().int().min(0).default(100),
  /** The log kept of each attempt; what a container prints beyond it is counted and dropped. */
  HUB_LOG_CAP_MB: z.coerce.number().int().min(1).max(10_240).default(64),
  /**
   * How much of the live logs JetStream keeps (HUB_LOGS, every attempt's together, the oldest going
   * first; a day at most): what `logs?follow=true` replays. Each attempt's is capped by HUB_LOG_CAP_MB too.
   */
  HUB_LIVE_LOG_MAX_MB: z.coerce.number().int().min(1).max(1_048_576).default(1024),
  /** What a session may write to /hub/output (and the largest file it may write anywhere); past it, it fails. */
  HUB_OUTPUT_QUOTA_MB: z.coerce.number().int().min(1).default(1024),
  /**
   * Where repositories are fetched from, rewritten by prefix: `from=to;…` (e.g. an internal mirror for
   * `https://github.com/`, or a local directory of bare repositories under HUB_LOCAL_REPOSITORY_ROOTS).
   */
  HUB_REPOSITORY_REWRITES: z
    .string()
    .default('')
    .transform((spec, ctx) => {
      const rules = spec.split(';').map((rule) => rule.trim()).filter(Boolean).map((rule) => rule.split('='));
      if (rules.some((rule) => rule.length !== 2 || !rule[0] || !rule[1])) {
        ctx.addIssue({ code: 'custom', message: 'must be prefix=replacement pairs separated by ";"' });
      }
      return rules.map(([from, to]) => ({ from: from!, to: to! }));
    }),
  /** The image of the helper containers that capture a session's git changes (needs git and sh). */
  HUB_GIT_HELPER_IMAGE: z.string().default('hub/test-agent:latest'),
  /** The runner's Docker engine: unix:///path/docker.sock (default /var/run/docker.sock) or tcp://host:port. */
  DOCKER_HOST: z.string().optional(),
  /** `1`: speak TLS to a tcp:// DOCKER_HOST, verifying it (as the docker CLI and dockerode read it); port 2376 implies TLS. */
  DOCKER_TLS_VERIFY: z.string().optional(),
  /** The directory of ca.pem, cert.pem and key.pem for a TLS DOCKER_HOST (default ~/.docker when DOCKER_TLS_VERIFY=1). */
  DOCKER_CERT_PATH: z.string().optional(),
  /** A file of NAME=value lines; HUB_SECRET_<NAME> variables add to it (and win). */
  HUB_SECRETS_FILE: z.string().optional(),
  /** Which network each image's containers join: `image-pattern=network;…` (default none for all). */
  HUB_IMAGE_NETWORKS: z.string().default(''),
  /**
   * What each image's sessions may reach through the runner's egress proxy: `image-pattern=host[:port],…;…`
   * (`*.domain` wildcards, port 443 when none is given, `host:*` any, `@repository` the session's git
   * host); `none` for nothing at all. Read by the registry too, which refuses sessions asking for more.
   */
  HUB_EGRESS: z.string().default(DEFAULT_EGRESS).transform(checked((spec) => new EgressPolicy(spec))),
  /** `name=address[:port],…`: names the proxy connects to that address without DNS (tests, internal mirrors). */
  HUB_EGRESS_RESOLVE: z.string().default('').transform(checked(parseEgressOverrides)),
  /** The helper image a session's container reaches the proxy through (socat; images/egress-bridge/build.sh). */
  HUB_EGRESS_BRIDGE_IMAGE: z.string().default('hub/egress-bridge:latest'),
  /** Which images get which secrets: `image-pattern=NAME,NAME;…`. */
  HUB_IMAGE_SECRETS: z.string().default('hub/claude-code*=ANTHROPIC_API_KEY'),
  /** Plain settings, never secrets, for each image's containers: `image-pattern=NAME=value;…` (one variable a rule). */
  HUB_IMAGE_ENV: z.string().default('').transform(checked((spec) => new ImageEnvironment(spec))),
  /**
   * How each image's sessions are paced on this runner: `image-pattern=concurrent:N,perMinute:N;…` (at
   * most N running at once, at most N started in any minute; the first rule an image matches counts).
   */
  HUB_IMAGE_PACING: z.string().default('').transform(checked(parseImagePacing)),
  /** How long an image is paused when its agent reports a rate limit without saying when it resets. */
  HUB_RATE_LIMIT_WAIT_SECONDS: z.coerce.number().int().min(0).max(7 * 24 * 3600).default(60),
  /** The longest an image is paused for a rate limit, whatever the agent reports. */
  HUB_RATE_LIMIT_MAX_WAIT_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(6 * 3600),
  /** Comma-separated host directories under which a session's repository may be a local path. */
  HUB_LOCAL_REPOSITORY_ROOTS: z
    .string()
    .default('')
    .transform((roots) => roots.split(',').map((r) => r.trim()).filter(Boolean)),
});
export type RunnerConfig = z.infer<typeof RunnerConfigSchema>;

/** A parser whose error becomes the variable's configuration error. */
function checked<T>(parse: (spec: string) => T) {
  return (spec: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(spec);
    } catch (error) {
      // The variable is named once: the configuration error puts it first.
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^HUB_[A-Z_]+: /, '') });
      return z.NEVER;
    }
  };
}

export function defaultSlots(config: RunnerConfig): number {
  if (config.HUB_RUNNER_SLOTS) return config.HUB_RUNNER_SLOTS;
  const byMemory = Math.floor(totalmem() / (config.HUB_CONTAINER_MEMORY_MB * MB));
  return Math.max(1, Math.min(cpus().length * 2, byMemory));
}
