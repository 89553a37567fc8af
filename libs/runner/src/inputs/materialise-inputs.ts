import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { OutputFile, SessionInput } from '@hub/contracts';
import type { ContainerInput } from '../ports/container-engine.port';

/** A dependency with the files its manifest lists. */
export interface ListedInput extends SessionInput {
  files: OutputFile[];
}

/** Where a dependency's output files are read from (the object store, in production). */
export interface InputSource {
  /** The file's content, or null when there is no such object. */
  getFile(sessionId: string, path: string): Promise<Buffer | null>;
}

/**
 * Writes each dependency's output files under `<rootDir>/<name>/<path>`, each checked against the
 * listing the registry gave (size and sha256), readable by anyone (files 0644, directories 0755:
 * they are mounted read-only into a container that runs as another user). Returns one mount per
 * input, in the order given. Throws, with a message fit for the session's exit detail, when a file
 * is missing, does not match its listing, or has a path that would land outside its directory.
 * Starts from an empty `rootDir`, so a re-run of the same attempt never sees stale files.
 */
export async function materialiseInputs(
  inputs: readonly ListedInput[],
  rootDir: string,
  source: InputSource,
): Promise<ContainerInput[]> {
  assertDistinctNames(inputs);
  await rm(rootDir, { recursive: true, force: true });
  await mkdir(rootDir, { recursive: true });
  const mounts: ContainerInput[] = [];
  for (const input of inputs) {
    const dir = join(rootDir, input.name);
    await mkdir(dir, { recursive: true });
    for (const file of input.files) {
      const target = targetOf(dir, input, file.path);
      const content = await source.getFile(input.sessionId, file.path);
      if (!content) {
        throw new Error(`${describe(input, file.path)} is missing from the object store`);
      }
      if (content.length !== file.size) {
        throw new Error(`${describe(input, file.path)} is ${content.length} bytes; its listing says ${file.size}`);
      }
      const sha256 = createHash('sha256').update(content).digest('hex');
      if (sha256 !== file.sha256) {
        throw new Error(`${describe(input, file.path)} has sha256 ${sha256}; its listing says ${file.sha256}`);
      }
      try {
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content, { flag: 'wx' }); // a path listed twice, or under a file, fails here
      } catch (error) {
        throw new Error(`${describe(input, file.path)} could not be written: ${(error as Error).message}`);
      }
    }
    mounts.push({ name: input.name, hostPath: dir });
  }
  await makeReadable(rootDir);
  return mounts;
}

/**
 * A listed path must be a plain relative path: anything else is a bug upstream (the runner that
 * collected the output only lists regular files below its output directory), never a file to write.
 */
function targetOf(dir: string, input: SessionInput, path: string): string {
  const segments = path.split('/');
  const plain =
    path.length > 0 &&
    !path.startsWith('/') &&
    !path.includes('\0') &&
    !path.includes('\\') &&
    segments.every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  const target = join(dir, ...segments);
  if (!plain || !target.startsWith(dir + sep)) {
    throw new Error(
      `${describe(input, path)} is not a plain relative path (absolute, '..', NUL or backslash); refused`,
    );
  }
  return target;
}

function assertDistinctNames(inputs: readonly ListedInput[]): void {
  const seen = new Set<string>();
  for (const { name } of inputs) {
    if (seen.has(name)) throw new Error(`two inputs are named ${JSON.stringify(name)}; each needs its own directory`);
    seen.add(name);
  }
}

function describe(input: SessionInput, path: string): string {
  return `input ${input.name}: file ${JSON.stringify(path)} of dependency session ${input.sessionId}`;
}

/** Explicit modes, whatever the process's umask. */
async function makeReadable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) await makeReadable(full);
    else await chmod(full, 0o644);
  }
}
