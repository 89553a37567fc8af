import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import type { OutputFile } from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';
import type { CliContext } from './cli-context';
import { CliError } from './cli-error';
import { formatSize, plural } from './format';

/** Whether `path` is below `root` (both absolute and resolved), not `root` itself. */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Where an output file named `path` (as the API lists it) is written under `dir`: refused, naming
 * it, when it would land anywhere else (absolute, `..`, a NUL) or be `dir` itself.
 */
export function outputPathIn(dir: string, path: string): string {
  const root = resolve(dir);
  const target = resolve(root, path);
  if (path.includes('\0') || isAbsolute(path) || !isInside(root, target)) {
    throw new CliError(`refusing the output file '${path}': it would be written outside ${root}`);
  }
  return target;
}

/**
 * Writes one output file under `dir`, through no symbolic link: its directory must really be under
 * `dir` (a link planted there could lead anywhere), and the file itself is not followed if it is a
 * link. The content must have the listed SHA-256; a file that does not is removed.
 */
export async function writeOutputFile(dir: string, file: OutputFile, content: Readable): Promise<string> {
  const target = outputPathIn(dir, file.path);
  await mkdir(dirname(target), { recursive: true });
  const [root, parent] = [await realpath(resolve(dir)), await realpath(dirname(target))];
  if (parent !== root && !isInside(root, parent)) throw new CliError(`refusing the output file '${file.path}': ${dirname(target)} leads outside ${root}`);
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot write ${target}: ${error.code === 'ELOOP' ? 'it is a symbolic link' : error.message}`);
  });
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(content, hashing, handle.createWriteStream());
  const sha256 = hash.digest('hex');
  if (sha256 !== file.sha256) {
    await rm(target, { force: true });
    throw new CliError(`${file.path} arrived with SHA-256 ${sha256}, not the listed ${file.sha256}; removed`);
  }
  return target;
}

/** Every file the session's output lists, written under `dir`; what it did not keep is said on stderr. */
async function downloadOutput(hub: HubApi, sessionId: string, dir: string, cli: CliContext): Promise<void> {
  const output = await hub.getSessionOutput(sessionId);
  for (const file of output.files) outputPathIn(dir, file.path); // every path checked before anything is written
  await mkdir(dir, { recursive: true });
  for (const file of output.files) {
    const written = await writeOutputFile(dir, file, (await hub.readOutputFile(sessionId, file.path)).content);
    cli.terminal.out.write(`${written}  ${formatSize(file.size)}\n`);
  }
  for (const skipped of output.skipped) cli.terminal.err.write(`not kept: ${skipped.path} (${skipped.reason})\n`);
  if (output.skippedCount > output.skipped.length) cli.terminal.err.write(`not kept: ${output.skippedCount - output.skipped.length} more\n`);
  cli.terminal.err.write(`${plural(output.files.length, 'file')} in ${resolve(dir)}\n`);
}

/** `hub output <sessionId> [--dir d]`: downloads what the agent wrote to /hub/output/. */
export function outputCommand(cli: CliContext): Command {
  return new Command('output')
    .description('download every output file of a session (what its agent wrote to /hub/output/)')
    .argument('<sessionId>')
    .option('--dir <dir>', 'where to write them (default: ./<sessionId>)')
    .action(async (sessionId: string, options: { dir?: string }, command: Command) => {
      await downloadOutput(await cli.connect(command), sessionId, options.dir ?? sessionId, cli);
    });
}
