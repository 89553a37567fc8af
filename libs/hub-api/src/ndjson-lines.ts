import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { z } from 'zod';

/**
 * The objects of an NDJSON body as they arrive, each checked against `schema` (one that breaks it
 * throws). Stopping early (break, return) destroys the body, which closes the request.
 */
export async function* ndjsonLines<T>(body: Readable, schema: z.ZodType<T>): AsyncGenerator<T> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of body) {
      rest += decoder.write(chunk as Buffer);
      let start = 0;
      for (let newline = rest.indexOf('\n'); newline >= 0; newline = rest.indexOf('\n', start)) {
        const line = rest.slice(start, newline);
        start = newline + 1;
        if (line.trim()) yield schema.parse(JSON.parse(line));
      }
      rest = rest.slice(start);
    }
    rest += decoder.end();
    if (rest.trim()) yield schema.parse(JSON.parse(rest));
  } finally {
    body.destroy();
  }
}
