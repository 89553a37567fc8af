import { request as httpRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** How much of a receiver's answer is read (its first bytes, for the delivery's last error). */
export const MAX_RESPONSE_BYTES = 4 * 1024;

export interface WebhookAnswer {
  statusCode: number;
  /** The answer's first MAX_RESPONSE_BYTES at most, as text. */
  body: string;
}

/**
 * POSTs `body` to `url` and answers its status and the start of its body. A redirect is an answer
 * like any other (never followed); the whole exchange, connection to last byte read, is bounded by
 * `timeoutMs`; the body is not read past MAX_RESPONSE_BYTES. Credentials in the URL are sent as
 * Basic auth. Rejects when no answer came (refused, reset, timed out), saying so.
 */
export function postWebhook(url: string, headers: OutgoingHttpHeaders, body: string, timeoutMs: number): Promise<WebhookAnswer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = Buffer.from(body);
  return new Promise<WebhookAnswer>((resolve, reject) => {
    let answered = false;
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const req = request(target, { method: 'POST', headers: { ...headers, 'Content-Length': payload.length } }, (res) => {
      answered = true;
      void readStart(res).then((text) => {
        clearTimeout(timer);
        resolve({ statusCode: res.statusCode ?? 0, body: text });
      });
    });
    req.on('error', (error) => {
      // Once the status came, a failure reading the rest (the time is up) changes nothing of the answer.
      if (answered) return;
      clearTimeout(timer);
      reject(error);
    });
    req.end(payload);
  });
}

/** The first MAX_RESPONSE_BYTES of an answer (less when it ends or breaks first); the rest is never read. */
function readStart(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      resolve(Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8'));
    };
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_RESPONSE_BYTES) {
        done();
        res.destroy();
      }
    });
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}
