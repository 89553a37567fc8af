// Copy-and-truncate against a real writer: a child process writing numbered lines to its stdout, an
// inherited O_APPEND descriptor of the log as a service's is, while the log is rotated every few
// milliseconds. What the files hold afterwards, read oldest first: every line whole, in order, none
// twice; only lines written in a rotation's instant between copy and truncation may be missing.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { closeLogFd, openLogFile } from './log-file';
import { LogRotation, rotatedLogFile } from './log-rotation';
import { makeTempDir } from './temp-dir';

const LINES = 20_000;
const WRITER = `
const { writeSync } = require('node:fs');
let i = 0;
const burst = () => {
  for (let end = Math.min(i + 50, ${LINES}); i < end; i++) writeSync(1, 'line ' + String(i).padStart(6, '0') + ' ' + 'x'.repeat(80) + '\\n');
  if (i < ${LINES}) setTimeout(burst, 1);
};
burst();
`;

describe('LogRotation with a process writing the log', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('hub-log-rotation');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('rotates while a child writes through its inherited descriptor: lines whole, in order, none twice, hardly any lost', async () => {
    const path = join(dir, 'writer.log');
    const policy = { maxBytes: 64 * 1024, files: 1000 };
    const log = openLogFile(path, policy);
    const child = spawn(process.execPath, ['-e', WRITER], { stdio: ['ignore', log.fd, log.fd] });
    closeLogFd(log);
    let rotations = 0;
    const rotation = new LogRotation([path], policy, { everyMs: 5, onRotated: () => rotations++ }).start();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    rotation.stop();
    expect(code).toBe(0);

    const rotated = readdirSync(dir).filter((name) => name.startsWith('writer.log.')).length;
    expect(rotated).toBe(rotations);
    expect(rotations).toBeGreaterThanOrEqual(5);
    const files = [...Array.from({ length: rotated }, (_, k) => rotatedLogFile(path, rotated - k)), path];
    const lines = files.flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean));
    const numbers = lines.map((line) => {
      expect(line).toMatch(/^line \d{6} x{80}$/);
      return Number(line.slice(5, 11));
    });
    for (let k = 1; k < numbers.length; k++) expect(numbers[k]).toBeGreaterThan(numbers[k - 1]);
    const lost = LINES - numbers.length;
    // Only what was written in a rotation's instant (a few lines, or none; more when this process is
    // descheduled right then on a busy machine), at a rate (50 lines a millisecond) no service comes near.
    expect(lost).toBeLessThan(LINES * 0.02);
  });
});
