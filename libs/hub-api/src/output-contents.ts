import type { Readable } from 'node:stream';
import { z } from 'zod';
import { HubError, OutputFileSchema, SessionOutput, SessionOutputSchema } from '@hub/contracts';
import type { HubFile } from './hub-api.port';

/**
 * Which output files an answer carries the content of, for every entrance alike (the MCP tools'
 * get_session_output, claude-hub's session.output): UTF-8 text files of at most
 * INLINE_FILE_MAX_BYTES, in listing order, while the inlined bytes of the answer stay within
 * INLINE_TOTAL_MAX_BYTES. Change a limit here and every entrance follows.
 */
export const INLINE_FILE_MAX_BYTES = 64 * 1024;
export const INLINE_TOTAL_MAX_BYTES = 256 * 1024;

export const SessionOutputWithContentsSchema = SessionOutputSchema.extend({
  files: z.array(
    OutputFileSchema.extend({
      /** The file's text, for small UTF-8 files. */
      content: z.string().optional(),
      /** Why the content is not inlined. */
      contentOmitted: z.string().optional(),
    }),
  ),
});
export type SessionOutputWithContents = z.infer<typeof SessionOutputWithContentsSchema>;

/** Reads a stream whole; null, and the stream destroyed, once it holds more than `maxBytes`. */
export async function readBytes(content: Readable, maxBytes = Infinity): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of content) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    bytes += buffer.length;
    if (bytes > maxBytes) {
      content.destroy();
      return null;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** A log (or any file) as UTF-8 text. */
export async function readText(file: HubFile): Promise<string> {
  return ((await readBytes(file.content)) ?? Buffer.alloc(0)).toString('utf8');
}

/** UTF-8 text without NUL, or null for anything that looks binary. */
function asText(bytes: Buffer): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The output with the content of the files the rule above chooses, read with `read`. A file that
 * cannot be read (a HubError: gone from the store, a service down) is listed with the reason.
 */
export async function withInlinedContents(output: SessionOutput, read: (path: string) => Promise<HubFile>): Promise<SessionOutputWithContents> {
  let budget = INLINE_TOTAL_MAX_BYTES;
  const files: SessionOutputWithContents['files'] = [];
  for (const file of output.files) {
    if (file.size > INLINE_FILE_MAX_BYTES) {
      files.push({ ...file, contentOmitted: `larger than ${INLINE_FILE_MAX_BYTES} bytes` });
      continue;
    }
    if (file.size > budget) {
      files.push({ ...file, contentOmitted: `the files before it already fill the ${INLINE_TOTAL_MAX_BYTES} bytes inlined per answer` });
      continue;
    }
    let bytes: Buffer | null;
    try {
      bytes = await readBytes((await read(file.path)).content, file.size);
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      files.push({ ...file, contentOmitted: error.message });
      continue;
    }
    if (bytes === null) {
      files.push({ ...file, contentOmitted: `the stored file is larger than the ${file.size} bytes listed` });
      continue;
    }
    const text = asText(bytes);
    if (text === null) {
      files.push({ ...file, contentOmitted: 'not UTF-8 text' });
      continue;
    }
    budget -= bytes.length;
    files.push({ ...file, content: text });
  }
  return { ...output, files };
}
