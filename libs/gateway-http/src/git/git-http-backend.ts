import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Request, Response } from 'express';
import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import { spawnHostGit } from '@hub/git';
import { HttpProblem } from '../http-problem.error';
import { cgiEnvironment, type GitCgiTarget } from './cgi-request';
import { readCgiHead } from './cgi-response';

/** The largest request body git may send (its list of wants and haves), as it came (gzip or not). */
export const MAX_GIT_REQUEST_BYTES = 16 * 1024 * 1024;
/** A fetch that takes longer than this is cut. */
const GIT_REQUEST_TIMEOUT_MS = 10 * 60_000;
/** What of http-backend's stderr is kept for the log. */
const KEPT_STDERR_BYTES = 4096;

/** 413; the connection is closed after it, as the rest of the body is not read. */
const tooLarge = () =>
  new HttpProblem(413, 'payload_too_large', `the request body is larger than the limit of ${MAX_GIT_REQUEST_BYTES} bytes`, {
    Connection: 'close',
  });

/**
 * The CGI bridge to `git http-backend`, spawned for each request (a host git command: clean
 * environment, no system or user configuration, hooks off). The request's body is read first, up
 * to MAX_GIT_REQUEST_BYTES (http-backend answers its head before it reads its input, so a refusal
 * could not be a 413 once it runs), then given to its stdin; its CGI head becomes the response's
 * status and headers, its body is streamed on. A failure before the head is thrown (answered in
 * JSON); after, the connection is cut so that git sees a broken response rather than a short one.
 * A client that goes away, or a request past GIT_REQUEST_TIMEOUT_MS, ends the process.
 */
@Injectable()
export class GitHttpBackend {
  constructor(@Inject(HUB_LOGGER) private readonly logger: HubLogger) {}

  async serve(req: Request, res: Response, target: GitCgiTarget): Promise<void> {
    const body = await readBody(req);
    const child = spawnHostGit(['http-backend'], { env: cgiEnvironment(req, target, body.length) });
    const stderr = keptStderr(child);
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), GIT_REQUEST_TIMEOUT_MS);
    res.once('close', () => {
      if (!res.writableFinished) child.kill('SIGKILL');
    });
    // http-backend may answer without reading its input (a refusal): EPIPE is no error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(body);
    try {
      const { head, bodyStart } = await readCgiHead(child.stdout).catch(async (error: Error) => {
        const exitCode = await exited;
        this.logger.warn({ path: target.pathInfo, exitCode, stderr: stderr() }, `git http-backend gave no answer: ${error.message}`);
        throw new HttpProblem(502, 'git_failed', 'git http-backend ended without an answer (the gateway log says why)');
      });
      res.status(head.status);
      for (const [name, value] of head.headers) res.append(name, value);
      res.write(bodyStart);
      child.stdout.pipe(res, { end: false });
      const exitCode = await exited;
      if (exitCode === 0) return void res.end();
      this.logger.warn({ path: target.pathInfo, exitCode, stderr: stderr() }, 'git http-backend failed while answering');
      res.destroy();
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The request's body, whole (git's wants and haves: kilobytes, usually), or tooLarge() as soon as it
 * is announced or read past MAX_GIT_REQUEST_BYTES; the rest is then not read.
 */
function readBody(req: Request): Promise<Buffer> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_GIT_REQUEST_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= MAX_GIT_REQUEST_BYTES) return void chunks.push(chunk);
      req.off('data', onData).pause();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, length)));
    req.once('error', reject);
    req.once('close', () => reject(new Error('the client went away before its request body was complete')));
  });
}

/** Collects the first KEPT_STDERR_BYTES of the process's stderr; the function gives them as text. */
function keptStderr(child: ChildProcessWithoutNullStreams): () => string {
  const chunks: Buffer[] = [];
  let kept = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    if (kept >= KEPT_STDERR_BYTES) return;
    chunks.push(chunk.subarray(0, KEPT_STDERR_BYTES - kept));
    kept += chunks[chunks.length - 1].length;
  });
  return () => Buffer.concat(chunks).toString('utf8').trim();
}
