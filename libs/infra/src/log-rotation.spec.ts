import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeLogFd, openLogFile } from './log-file';
import { DEFAULT_LOG_ROTATION, LogRotation, logRotationFromEnv, rotatedLogFile, rotateLogFile } from './log-rotation';

// Log rotation with a small size: which files there are after each rotation, what each holds, and a
// writer that keeps its descriptor (O_APPEND, as a service's stdout) writing on into the emptied file.

describe('log rotation', () => {
  let dir: string;
  let log: string;
  const policy = { maxBytes: 100, files: 3 };
  const read = (path: string) => readFileSync(path, 'utf8');
  const filesOf = () => readdirSync(dir).sort();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hub-log-rotation-'));
    log = join(dir, 'gateway.log');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('logRotationFromEnv', () => {
    it('reads HUB_LOG_MAX_MB and HUB_LOG_FILES, 50 MB and 5 files by default', () => {
      expect(logRotationFromEnv({})).toEqual(DEFAULT_LOG_ROTATION);
      expect(DEFAULT_LOG_ROTATION).toEqual({ maxBytes: 50 * 1024 * 1024, files: 5 });
      expect(logRotationFromEnv({ HUB_LOG_MAX_MB: '2', HUB_LOG_FILES: '1', HUB_LOG_CAP_MB: '9' })).toEqual({ maxBytes: 2 * 1024 * 1024, files: 1 });
      expect(logRotationFromEnv({ HUB_LOG_MAX_MB: ' ', HUB_LOG_FILES: '' })).toEqual(DEFAULT_LOG_ROTATION);
    });

    it('refuses a value that is not a whole number in range, naming the variable', () => {
      expect(() => logRotationFromEnv({ HUB_LOG_MAX_MB: '0' })).toThrow('HUB_LOG_MAX_MB must be a whole number from 1 to 1048576, not "0"');
      expect(() => logRotationFromEnv({ HUB_LOG_MAX_MB: '1.5' })).toThrow('HUB_LOG_MAX_MB');
      expect(() => logRotationFromEnv({ HUB_LOG_FILES: 'five' })).toThrow('HUB_LOG_FILES must be a whole number from 1 to 100, not "five"');
    });
  });

  describe('rotateLogFile', () => {
    it('leaves a file at or under the size alone, and a missing one', () => {
      writeFileSync(log, 'x'.repeat(100));
      expect(rotateLogFile(log, policy)).toBe(false);
      expect(rotateLogFile(join(dir, 'missing.log'), policy)).toBe(false);
      expect(filesOf()).toEqual(['gateway.log']);
    });

    it('moves a file past the size to .1 and empties it, the copies moving up, never more than `files` in all', () => {
      const lines = (generation: string) => `${generation.repeat(100)}\n`;
      for (const generation of ['a', 'b', 'c', 'd']) {
        writeFileSync(log, lines(generation));
        expect(rotateLogFile(log, policy)).toBe(true);
      }

      expect(filesOf()).toEqual(['gateway.log', 'gateway.log.1', 'gateway.log.2']);
      expect(read(log)).toBe('');
      expect(read(rotatedLogFile(log, 1))).toBe(lines('d'));
      expect(read(rotatedLogFile(log, 2))).toBe(lines('c'));
      expect(statSync(rotatedLogFile(log, 1)).mode & 0o777).toBe(0o600);
    });

    it('keeps the descriptor of a writer (O_APPEND) writing at the start of the emptied file, with no hole', () => {
      const fd = openSync(log, 'a', 0o600);
      try {
        writeSync(fd, 'first line, long enough to pass the size of one hundred bytes that this test gives the log\n');
        writeSync(fd, 'second line\n');
        expect(rotateLogFile(log, policy)).toBe(true);
        writeSync(fd, 'third line\n');
      } finally {
        closeSync(fd);
      }

      expect(read(rotatedLogFile(log, 1))).toBe('first line, long enough to pass the size of one hundred bytes that this test gives the log\nsecond line\n');
      expect(read(log)).toBe('third line\n');
    });

    it('cuts an unfinished last line from the copy (a write the copy caught half done, whose rest the truncation drops)', () => {
      writeFileSync(log, `${'x'.repeat(100)}\n{"level":30,"msg":"half wri`);
      expect(rotateLogFile(log, policy)).toBe(true);
      expect(read(rotatedLogFile(log, 1))).toBe(`${'x'.repeat(100)}\n`);
      expect(read(log)).toBe('');
    });

    it('renames, for a file nobody writes', () => {
      writeFileSync(log, 'old'.repeat(50));
      expect(rotateLogFile(log, policy, 'rename')).toBe(true);
      expect(existsSync(log)).toBe(false);
      expect(read(rotatedLogFile(log, 1))).toBe('old'.repeat(50));
    });

    it('only empties the file when a single file is kept', () => {
      writeFileSync(log, 'x'.repeat(200));
      writeFileSync(rotatedLogFile(log, 1), 'from a policy that kept more');
      expect(rotateLogFile(log, { maxBytes: 100, files: 1 })).toBe(true);
      expect(filesOf()).toEqual(['gateway.log']);
      expect(read(log)).toBe('');
    });
  });

  describe('openLogFile', () => {
    it('rotates a file past the size before a new process appends to it, instead of emptying it', () => {
      writeFileSync(log, 'the previous run\n'.repeat(10));
      const opened = openLogFile(log, policy);
      closeLogFd(opened);

      expect(opened.startOffset).toBe(0);
      expect(read(rotatedLogFile(log, 1))).toBe('the previous run\n'.repeat(10));
      expect(read(log)).toBe('');
    });

    it('appends to a file under the size', () => {
      writeFileSync(log, 'short\n');
      const opened = openLogFile(log, policy);
      closeLogFd(opened);
      expect(opened.startOffset).toBe(6);
      expect(filesOf()).toEqual(['gateway.log']);
    });
  });

  describe('LogRotation', () => {
    it('rotates the files past the size at each look, skips missing ones, and reports what it did and what failed', () => {
      const other = join(dir, 'stack.log');
      const notAFile = join(dir, 'a-directory.log');
      mkdirSync(notAFile);
      const rotated: string[] = [];
      const failed: string[] = [];
      const rotation = new LogRotation([log, other, join(dir, 'missing.log'), notAFile], { maxBytes: 10, files: 2 }, {
        onRotated: (path) => rotated.push(path),
        onError: (path) => failed.push(path),
      });
      writeFileSync(log, `${'x'.repeat(11)}\n`);
      writeFileSync(other, 'short');

      expect(rotation.checkNow()).toEqual([log]);
      expect(rotated).toEqual([log]);
      expect(failed).toEqual([notAFile]);

      appendFileSync(other, ' and longer now\n');
      expect(rotation.checkNow()).toEqual([other]);
      expect(read(rotatedLogFile(other, 1))).toBe('short and longer now\n');
    });

    it('looks by itself every `everyMs` once started, until stopped', async () => {
      const rotation = new LogRotation([log], policy, { everyMs: 20 }).start();
      try {
        writeFileSync(log, `${'x'.repeat(101)}\n`);
        await new Promise((r) => setTimeout(r, 200));
        expect(read(rotatedLogFile(log, 1))).toBe(`${'x'.repeat(101)}\n`);
      } finally {
        rotation.stop();
      }
      writeFileSync(log, 'y'.repeat(101));
      await new Promise((r) => setTimeout(r, 100));
      expect(read(log)).toBe('y'.repeat(101));
    });
  });
});
