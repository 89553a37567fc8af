import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-port';
import { closeLogFd, logTail, openLogFile, readLogSince, type LogFile } from './log-file';
import { findPostgresBinaries, type PostgresBinaries } from './postgres-binaries';
import {
  hasExited,
  isProcessAlive,
  killOnExit,
  processCommandLine,
  processWorkingDirectory,
  stopChildProcess,
  stopProcessByPid,
  type ShutdownStep,
} from './process-tree';
import { assertTraversableBy, chownRecursive, resolveServiceUser, type ServiceUser } from './service-user';

export interface PostgresClusterOptions {
  /** The cluster's data directory; created and initialised (initdb) when missing or empty. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** false: fsync, synchronous_commit and full_page_writes off (fast, for tests). Default true. */
  fsync?: boolean;
  /** Database created (if missing) and named in `url`. Default `hub`. */
  database?: string;
  /** Extra server settings, passed as `-c name=value`. */
  settings?: Record<string, string | number | boolean>;
  /** How long to wait for the server to accept connections. Default 60 s. */
  startTimeoutMs?: number;
  /** Where the superuser's password is kept (0600); default `<dataDir>.password`, beside the data directory. */
  passwordFile?: string;
}

export interface PostgresCluster {
  /** postgres://hub:<password>@127.0.0.1:<port>/<database>: every connection gives the password (scram-sha-256). */
  url: string;
  /** The file the superuser's password is kept in (0600). */
  passwordFile: string;
  port: number;
  dataDir: string;
  /** The server log (appended to across runs). */
  logFile: string;
  /** Where the server binaries came from. */
  binaries: PostgresBinaries;
  /** Fast shutdown (SIGINT), waiting for the server to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

/** The superuser initdb creates; it authenticates with a generated password (scram-sha-256). */
export const POSTGRES_SUPERUSER = 'hub';

/**
 * Who may connect, and how: every connection, over the unix socket or TCP, gives the superuser's
 * password (scram-sha-256). Nothing trusts, so no local user gets in without the password.
 */
const PG_HBA = [
  '# Written by Hub (libs/infra/src/postgres-cluster.ts) at every start: nothing trusts.',
  'local   all   all                  scram-sha-256',
  'host    all   all   127.0.0.1/32   scram-sha-256',
  'host    all   all   ::1/128        scram-sha-256',
  '',
].join('\n');

const SHUTDOWN: ShutdownStep[] = [
  { signal: 'SIGINT', timeoutMs: 30_000 }, // fast shutdown
  { signal: 'SIGQUIT', timeoutMs: 5_000 }, // immediate shutdown
  { signal: 'SIGKILL', timeoutMs: 5_000 },
];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Starts a PostgreSQL server on 127.0.0.1 for `dataDir`, running initdb first if the directory is
 * missing or empty. An existing data directory is reused (same data). When called as root the
 * server runs as the unprivileged OS user `hub-postgres` (created if missing). A postmaster left
 * running on the same data directory by an earlier run that crashed is shut down first.
 */
export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const dataDir = resolve(options.dataDir);
  const database = options.database ?? 'hub';
  const passwordFile = resolve(options.passwordFile ?? `${dataDir}.password`);
  const user = await resolveServiceUser();

  await fs.mkdir(dataDir, { recursive: true });
  let dataMajor = await readDataMajor(dataDir);
  let password = await readPassword(passwordFile);
  if (dataMajor === undefined) {
    const binaries = findPostgresBinaries();
    password = await writePassword(passwordFile);
    await initCluster(dataDir, binaries, user, options.fsync ?? true, password);
    dataMajor = binaries.major;
  }
  const binaries = findPostgresBinaries(dataMajor);

  if (user) {
    const stat = await fs.stat(dataDir);
    if (stat.uid !== user.uid || stat.gid !== user.gid) await chownRecursive(dataDir, user.uid, user.gid);
    await assertTraversableBy(dataDir, user, 'PostgreSQL data directory');
  }
  await fs.chmod(dataDir, 0o700);
  await clearPreviousPostmaster(dataDir);
  if (password === undefined) {
    // A cluster from before passwords (it trusted local connections): give its superuser one now,
    // in single-user mode (no connection is accepted meanwhile).
    password = await writePassword(passwordFile);
    await setSuperuserPassword(dataDir, binaries, user, password);
  }
  await writeHba(dataDir, user);
  const auth = { passwordFile, password };

  // A port we picked ourselves may be taken by someone else before the server binds it: retry.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(dataDir, port, database, binaries, user, options, auth);
    } catch (err) {
      if (attempt >= attempts || !(err instanceof PortInUseError)) throw err;
    }
  }
}

class PortInUseError extends Error {}

async function launch(
  dataDir: string,
  port: number,
  database: string,
  binaries: PostgresBinaries,
  user: ServiceUser | undefined,
  options: PostgresClusterOptions,
  auth: { passwordFile: string; password: string },
): Promise<PostgresCluster> {
  const socketDir = await fs.mkdtemp(join(tmpdir(), 'hub-pg-'));
  if (user) await fs.chown(socketDir, user.uid, user.gid);

  const settings: Record<string, string | number | boolean> = {
    listen_addresses: '127.0.0.1',
    ...(options.fsync === false ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port), '-k', socketDir];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${formatSetting(value)}`);

  const log = openLogFile(join(dataDir, 'log', 'hub-postgres.log'));
  if (user) await fs.chown(dirname(log.path), user.uid, user.gid).catch(() => undefined);
  let child: ChildProcess;
  try {
    child = spawn(binaries.postgres, args, {
      cwd: '/',
      env: serverEnv(),
      stdio: ['ignore', log.fd, log.fd],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
  } finally {
    closeLogFd(log);
  }
  killOnExit(child, 'SIGINT');
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError ??= err));

  const cleanup = async () => {
    if (!hasExited(child)) await stopChildProcess(child, SHUTDOWN, 'postgres').catch(() => undefined);
    await fs.rm(socketDir, { recursive: true, force: true });
  };

  try {
    await waitUntilAccepting(child, port, auth.password, log, options.startTimeoutMs ?? 60_000, () => spawnError);
    await ensureDatabase(port, auth.password, database);
  } catch (err) {
    await cleanup();
    throw err;
  }
  child.unref();

  let stopping: Promise<void> | undefined;
  return {
    url: postgresUrl(port, database, auth.password),
    passwordFile: auth.passwordFile,
    port,
    dataDir,
    logFile: log.path,
    binaries,
    stop: () => (stopping ??= cleanup()),
  };
}

export function postgresUrl(port: number, database: string, password: string): string {
  return `postgres://${POSTGRES_SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function readPassword(file: string): Promise<string | undefined> {
  try {
    const password = (await fs.readFile(file, 'utf8')).trim();
    return password || undefined;
  } catch {
    return undefined;
  }
}

/** A new superuser password, kept in `file` (0600) before any server uses it. */
async function writePassword(file: string): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  await fs.mkdir(dirname(file), { recursive: true });
  await fs.writeFile(file, `${password}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return password;
}

async function writeHba(dataDir: string, user: ServiceUser | undefined): Promise<void> {
  const file = join(dataDir, 'pg_hba.conf');
  await fs.writeFile(file, PG_HBA, { mode: 0o600 });
  if (user) await fs.chown(file, user.uid, user.gid);
}

/** ALTER ROLE in single-user mode: the password goes on stdin, never on a command line. */
async function setSuperuserPassword(dataDir: string, binaries: PostgresBinaries, user: ServiceUser | undefined, password: string) {
  const statement = `ALTER ROLE ${quoteIdentifier(POSTGRES_SUPERUSER)} PASSWORD '${password.replace(/'/g, "''")}';\n`;
  const { code, output } = await run(binaries.postgres, ['--single', '-D', dataDir, 'postgres'], user, statement);
  if (code !== 0) throw new Error(`could not set the PostgreSQL superuser's password (exit code ${code}):\n${output.trimEnd()}`);
}

async function waitUntilAccepting(
  child: ChildProcess,
  port: number,
  password: string,
  log: LogFile,
  timeoutMs: number,
  spawnError: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const failedSpawn = spawnError();
    if (failedSpawn) throw new Error(`cannot start postgres: ${failedSpawn.message}`);
    if (hasExited(child)) {
      const text = readLogSince(log.path, log.startOffset);
      const why = `postgres exited during startup (${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode})`;
      const message = `${why} on port ${port}; server log ${log.path}:\n${logTail(log.path, log.startOffset)}`;
      if (/could not (bind|create listen socket)|Address already in use/i.test(text)) throw new PortInUseError(message);
      throw new Error(message);
    }
    const client = new Client({
      host: '127.0.0.1',
      port,
      user: POSTGRES_SUPERUSER,
      password,
      database: 'postgres',
      connectionTimeoutMillis: 2_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      lastError = err;
    } finally {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `postgres on port ${port} did not accept connections within ${timeoutMs} ms ` +
          `(last error: ${(lastError as Error)?.message}); server log ${log.path}:\n${logTail(log.path, log.startOffset)}`,
      );
    }
    await sleep(100);
  }
}

async function ensureDatabase(port: number, password: string, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: POSTGRES_SUPERUSER, password, database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdentifier(database)}`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42P04') throw err; // duplicate_database: created meanwhile
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** PG_VERSION's major version, or undefined for a missing/empty directory; throws for anything else. */
async function readDataMajor(dataDir: string): Promise<number | undefined> {
  try {
    const text = await fs.readFile(join(dataDir, 'PG_VERSION'), 'utf8');
    return Number.parseInt(text.trim(), 10);
  } catch {
    const entries = await fs.readdir(dataDir);
    if (entries.length === 0) return undefined;
    throw new Error(
      `${dataDir} is neither empty nor a PostgreSQL data directory (no PG_VERSION; contains ${entries
        .slice(0, 5)
        .join(', ')}). Point dataDir at an empty or missing directory, or at an existing cluster.`,
    );
  }
}

/**
 * initdb into a sibling scratch directory, then rename it onto the (empty) data directory, so a
 * crash half-way never leaves a half-initialised cluster behind.
 */
async function initCluster(dataDir: string, binaries: PostgresBinaries, user: ServiceUser | undefined, fsync: boolean, password: string) {
  const scratch = `${dataDir}.initdb-tmp`;
  await fs.rm(scratch, { recursive: true, force: true });
  await fs.mkdir(scratch, { mode: 0o700 });
  try {
    if (user) {
      await fs.chown(scratch, user.uid, user.gid);
      await assertTraversableBy(scratch, user, 'PostgreSQL data directory');
    }
    // The password reaches initdb through a file only its user reads, removed once it is read.
    const pwfile = `${scratch}.pw`;
    await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) await fs.chown(pwfile, user.uid, user.gid);
    const args = ['-D', scratch, '-U', POSTGRES_SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C'];
    if (!fsync) args.push('--no-sync');
    const { code, output } = await run(binaries.initdb, args, user).finally(() => fs.rm(pwfile, { force: true }));
    if (code !== 0) {
      throw new Error(`initdb (${binaries.initdb}) failed with exit code ${code}:\n${output.trimEnd()}`);
    }
    await fs.rmdir(dataDir).catch(() => undefined); // empty (checked by readDataMajor)
    await fs.rename(scratch, dataDir);
  } catch (err) {
    await fs.rm(scratch, { recursive: true, force: true });
    throw err;
  }
}

function run(
  command: string,
  args: string[],
  user: ServiceUser | undefined,
  input?: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: '/',
      env: serverEnv(),
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Stops a PostgreSQL that a stack process which died left serving this data directory (`npm run hub:down`). */
export async function stopOrphanedPostgres(dataDir: string): Promise<void> {
  await clearPreviousPostmaster(dataDir);
}

/**
 * A postmaster.pid left behind: if its process is a postmaster still serving this data directory
 * (an earlier run crashed without stopping it), shut that server down; otherwise the file is stale
 * and is removed.
 */
async function clearPreviousPostmaster(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  const owner = Number.isInteger(pid) && pid > 0 ? postmasterState(pid, dataDir) : 'gone';
  if (owner === 'unknown') return; // cannot tell (another user's process): postgres itself decides
  if (owner === 'ours') {
    await stopProcessByPid(pid, SHUTDOWN, `orphaned postgres for ${dataDir}`);
    // It removes the file itself on a clean shutdown; after SIGKILL its backends need a moment.
    for (let i = 0; i < 50 && existsSync(pidFile); i++) await sleep(100);
  }
  await fs.rm(pidFile, { force: true });
}

/** 'ours': a postmaster serving this data directory; 'gone': dead or pid reused by another program. */
function postmasterState(pid: number, dataDir: string): 'ours' | 'gone' | 'unknown' {
  if (!isProcessAlive(pid)) return 'gone';
  const cmdline = processCommandLine(pid);
  if (!cmdline) return 'unknown';
  if (!/postgres|postmaster/.test(cmdline[0] ?? '')) return 'gone';
  const cwd = processWorkingDirectory(pid); // postgres chdirs into its data directory
  if (cwd === undefined) return 'unknown';
  try {
    return realpathSync(cwd) === realpathSync(dataDir) ? 'ours' : 'gone';
  } catch {
    return 'unknown';
  }
}

function formatSetting(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

/** A clean environment for the server: C locale, no PG* variables that could redirect it. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
  if (process.env['TZ']) env['TZ'] = process.env['TZ'];
  return env;
}
