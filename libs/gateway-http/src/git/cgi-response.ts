import type { Readable } from 'node:stream';

/** A CGI response's head: its status (from `Status:`) and the headers to send, in order. */
export interface CgiHead {
  status: number;
  headers: [name: string, value: string][];
}

/** A CGI program's headers are read up to this many bytes; more is not a response we accept. */
export const MAX_CGI_HEAD_BYTES = 64 * 1024;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers about the connection, which the gateway's HTTP server decides, not the program. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer', 'te', 'proxy-connection']);

/**
 * Where a CGI response's head ends (RFC 3875: header lines, then an empty line; `\r\n` or `\n`):
 * its text and where the body starts, or null while the empty line has not come.
 */
export function splitCgiHead(output: Buffer): { head: string; bodyStart: number } | null {
  const candidates = [
    { at: output.indexOf('\r\n\r\n'), length: 4 },
    { at: output.indexOf('\n\n'), length: 2 },
  ].filter(({ at }) => at >= 0);
  if (!candidates.length) return null;
  const end = candidates.reduce((first, other) => (other.at < first.at ? other : first));
  return { head: output.subarray(0, end.at).toString('latin1'), bodyStart: end.at + end.length };
}

/**
 * The status and headers of a CGI head: `Status: 404 Not Found` gives the status (200 without it,
 * 302 with only a `Location`), every other line is a header passed on, but those about the
 * connection. A line that is not `Name: value` makes the whole response malformed (thrown).
 */
export function parseCgiHead(head: string): CgiHead {
  let status: number | undefined;
  const headers: CgiHead['headers'] = [];
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!HEADER_NAME.test(name)) throw new Error(`malformed CGI header line: ${JSON.stringify(line.slice(0, 100))}`);
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const code = /^([1-5][0-9]{2})(?:\s|$)/.exec(value);
      if (!code) throw new Error(`malformed CGI status: ${JSON.stringify(value.slice(0, 100))}`);
      status = Number(code[1]);
    } else if (!HOP_BY_HOP.has(name.toLowerCase())) {
      headers.push([name, value]);
    }
  }
  const redirect = headers.some(([name]) => name.toLowerCase() === 'location');
  return { status: status ?? (redirect ? 302 : 200), headers };
}

/**
 * Reads a CGI program's stdout up to the end of its head: the head, and the bytes of the body that
 * came with it. The stream is left paused at that point, to be piped on. Rejects when the output
 * ends, fails or passes MAX_CGI_HEAD_BYTES before the head is complete, or the head is malformed.
 */
export function readCgiHead(stdout: Readable): Promise<{ head: CgiHead; bodyStart: Buffer }> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const settle = (outcome: () => void) => {
      stdout.off('data', onData).off('end', onEnd).off('error', onError);
      stdout.pause();
      try {
        outcome();
      } catch (error) {
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const split = splitCgiHead(received);
      if (split) {
        settle(() => resolve({ head: parseCgiHead(split.head), bodyStart: received.subarray(split.bodyStart) }));
      } else if (received.length > MAX_CGI_HEAD_BYTES) {
        settle(() => reject(new Error(`the CGI head is larger than ${MAX_CGI_HEAD_BYTES} bytes`)));
      }
    };
    const onEnd = () => settle(() => reject(new Error('the CGI program ended before its head was complete')));
    const onError = (error: Error) => settle(() => reject(error));
    stdout.on('data', onData).once('end', onEnd).once('error', onError);
  });
}
