import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostDirAlias, withoutHostPaths } from './host-paths';

/** The transports a host git command may use: `file` (paths, bundles, the mirror cache), `https` (remotes). */
export type GitProtocol = 'file' | 'https';

export interface HostGitOptions {
  /** Where git runs (`git -C <cwd>`). Hidden in errors. */
  cwd?: string;
  /** The only transports this command may use; default `file`. Every other one (ext::, git://, ssh, http) is refused. */
  protocols?: readonly GitProtocol[];
  /**
   * Configuration for this one command (given as GIT_CONFIG_COUNT/KEY/VALUE in its environment: the
   * same scope as `-c`, never written to a config file, and not on the command line, where any local
   * user could read it): `http.extraHeader` with a token, say.
   */
  config?: Readonly<Record<string, string>>;
  /** Values never shown in an error (tokens, headers): replaced by `***`. */
  secrets?: readonly string[];
  /** A repository not owned by the runner's user that git may still open (a workspace handed to the agent's uid). */
  safeDirectory?: string;
  /** Added to git's environment: author and committer identity, dates. Only GIT_AUTHOR_* and GIT_COMMITTER_*. */
  identity?: Readonly<Record<string, string>>;
  /** Killed (SIGKILL) past this; default 60 s. */
  timeoutMs?: number;
  /** stdout and stderr are each kept up to this many bytes, the rest counted; default 1 MiB. */
  maxOutputBytes?: number;
  /** Host directories never shown in an error (the runner's data directory), beside `cwd`. */
  hide?: readonly (string | HostDirAlias)[];
}

export interface HostGitResult {
  stdout: string;
  stderr: string;
  /** Whether stdout went past maxOutputBytes (what was kept is its start). */
  truncated: boolean;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const SHOWN_STDERR_CHARS = 1_000;
const IDENTITY_VARIABLE = /^GIT_(AUTHOR|COMMITTER)_(NAME|EMAIL|DATE)$/;

/**
 * Settings that keep a command from running anything a repository's configuration names: no hooks,
 * no fsmonitor, no credential helper, no signing program, no background gc left running after the
 * command; links stay links. Git reads none of the system's or the user's configuration either (see
 * environment()), so what runs is git alone.
 */
const HARDENING = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.symlinks=true',
  'credential.helper=',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'gc.autoDetach=false',
  'submodule.recurse=false',
];

export class GitCommandError extends Error {
  constructor(
    /** The command as shown: `git clone --mirror <runner>/mirrors/…` (host paths hidden). */
    readonly command: string,
    readonly exitCode: number | null,
    /** What git said (its last lines, host paths hidden, secrets masked). */
    readonly detail: string,
  ) {
    super(`${command} failed: ${detail}`);
    this.name = 'GitCommandError';
  }
}

/**
 * Runs git on the host, for repositories Hub itself made (the mirror cache, fresh workspaces before
 * their agent starts, merges): never through a shell, with none of the host's git configuration
 * (system, global, the user's attributes and ignores: HOME is an empty directory of its own), no
 * prompt, only the transports named, a time limit and capped output. Never use it on a repository an
 * agent has had in hand: its config, hooks and attributes are the agent's (see capture-changes.ts).
 * An error names the command and git's reason, with host directories and secrets hidden.
 */
export function hostGit(args: readonly string[], options: HostGitOptions = {}): Promise<HostGitResult> {
  const fullArgs = hardenedArgs(args, options);
  const shown = describe(args, options);
  const maxBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn('git', fullArgs, { env: environment(options), stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const stdout = new CappedText(maxBytes);
    const stderr = new CappedText(maxBytes);
    child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new GitCommandError(shown, null, scrub(error.message, options)));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout: stdout.text(), stderr: stderr.text(), truncated: stdout.truncated });
      const reason = timedOut
        ? `no result within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`
        : lastLines(stderr.text()) || (signal ? `killed by ${signal}` : `exit code ${code}`);
      reject(new GitCommandError(shown, code, scrub(reason, options)));
    });
  });
}

/** The options in force for a host git command, `-C <cwd>`, then `args`. */
function hardenedArgs(args: readonly string[], options: HostGitOptions): string[] {
  const protocols = options.protocols ?? ['file'];
  return [
    ...(options.cwd ? ['-C', options.cwd] : []),
    ...[...HARDENING, 'protocol.allow=never', ...protocols.map((protocol) => `protocol.${protocol}.allow=always`)].flatMap(
      (setting) => ['-c', setting],
    ),
    ...(options.safeDirectory ? ['-c', `safe.directory=${options.safeDirectory}`] : []),
    ...args,
  ];
}

/** What a streamed host git command gets besides hostGit's options: variables for its environment (a CGI request's). */
export interface HostGitProcessOptions extends Pick<HostGitOptions, 'cwd' | 'protocols'> {
  /** Added to the clean environment; none may replace one of its own (PATH, HOME...) nor name configuration (GIT_CONFIG_*). */
  env?: Readonly<Record<string, string>>;
}

/**
 * A host git command whose input and output are streams, such as `git http-backend`: the same
 * settings and clean environment as hostGit, but the caller feeds stdin, reads stdout and stderr,
 * and kills the process when it must (hostGit's time limit and output caps do not apply).
 */
export function spawnHostGit(args: readonly string[], options: HostGitProcessOptions = {}): ChildProcessWithoutNullStreams {
  const own = environment({});
  const clash = Object.keys(options.env ?? {}).find((name) => name in own || name.startsWith('GIT_CONFIG'));
  if (clash) throw new Error(`spawnHostGit: ${clash} belongs to hostGit's clean environment and may not be given`);
  return spawn('git', hardenedArgs(args, options), { env: { ...options.env, ...own }, stdio: 'pipe', shell: false });
}

/**
 * A clean environment: the runner's own (GIT_DIR, GIT_SSH_COMMAND, a proxy, a HOME with a
 * .gitconfig) never reaches git; only PATH does.
 */
function environment(options: HostGitOptions): NodeJS.ProcessEnv {
  const home = emptyHome();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    GIT_EDITOR: 'false',
  };
  const config = Object.entries(options.config ?? {});
  if (config.length) {
    env['GIT_CONFIG_COUNT'] = String(config.length);
    config.forEach(([key, value], index) => {
      env[`GIT_CONFIG_KEY_${index}`] = key;
      env[`GIT_CONFIG_VALUE_${index}`] = value;
    });
  }
  for (const [name, value] of Object.entries(options.identity ?? {})) {
    if (!IDENTITY_VARIABLE.test(name)) throw new Error(`hostGit: ${name} is not an identity variable (GIT_AUTHOR_*, GIT_COMMITTER_*)`);
    env[name] = value;
  }
  return env;
}

let home: string | undefined;

/** One empty directory per process, made on first use (0700), that git is given as HOME; removed at exit. */
function emptyHome(): string {
  if (!home) {
    const made = mkdtempSync(join(tmpdir(), 'hub-git-home-'));
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    home = made;
  }
  return home;
}

/** `git <args>`, host directories hidden, each secret masked: for errors. */
function describe(args: readonly string[], options: HostGitOptions): string {
  return scrub(['git', ...args].join(' '), options).slice(0, 500);
}

function scrub(text: string, options: HostGitOptions): string {
  let shown = text;
  for (const secret of options.secrets ?? []) if (secret) shown = shown.split(secret).join('***');
  return withoutHostPaths(shown, [...(options.cwd ? [options.cwd] : []), ...(options.hide ?? [])]);
}

function lastLines(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('hint:'));
  return lines.slice(-3).join(' / ').slice(-SHOWN_STDERR_CHARS);
}

/** Keeps the first `maxBytes` of a stream, counts the rest. */
class CappedText {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Buffer): void {
    const room = this.maxBytes - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
