import { z } from 'zod';

/**
 * A session attempt's output as it is printed, on a JetStream stream of its own: the runner publishes
 * it (masked) while it captures the log, the gateway follows it (`GET /api/v1/sessions/:id/logs?follow=true`).
 * It is a view, not the record: chunks the runner could not publish in time are dropped (and counted),
 * while the stored log (object store) keeps every byte up to HUB_LOG_CAP_MB. Messages expire (max age,
 * max bytes, oldest first).
 */
export const LIVE_LOG_STREAM = {
  name: 'HUB_LOGS',
  subjects: ['logs.>'],
  /** Runners publish their sessions' lines; the gateway follows them. */
  writtenBy: 'container-runner',
  readBy: ['gateway'],
} as const;

/** Each attempt's messages are on a subject of their own, so a retry's follower starts clean. */
export const liveLogSubject = (sessionId: string, attempt: number) => `logs.${sessionId}.${attempt}`;

/** A message holds at most this much output (a chunk is cut to fit). */
export const LIVE_LOG_MESSAGE_BYTES = 64 * 1024;

/** Which of the container's outputs a chunk was read from. */
export const OutputStreamSchema = z.enum(['stdout', 'stderr']);
export type OutputStream = z.infer<typeof OutputStreamSchema>;

/** Output read at one instant from one stream, masked: any part of a line, or several lines. */
export const LiveLogChunkSchema = z.object({
  /** When the runner read it (ms since the epoch). */
  t: z.number().int().nonnegative(),
  stream: OutputStreamSchema,
  text: z.string(),
});
export type LiveLogChunk = z.infer<typeof LiveLogChunkSchema>;

/** One message on an attempt's subject: what the runner read since the previous one, in order. */
export const LiveLogMessageSchema = z.object({
  /** Output the runner did not publish just before these chunks (JetStream was slower than the container). */
  droppedBytes: z.number().int().positive().optional(),
  chunks: z.array(LiveLogChunkSchema),
  /** After these chunks the log reached its cap (HUB_LOG_CAP_MB): nothing more is kept, or shown. */
  capReached: z.literal(true).optional(),
  /** The attempt ended: nothing follows. */
  end: z.literal(true).optional(),
});
export type LiveLogMessage = z.infer<typeof LiveLogMessageSchema>;

/**
 * Where a followed line comes from: the container's `stdout` or `stderr`; `hub` for Hub's own notes
 * (output not shown live, the cap reached); `log` for an attempt that ended and is no longer held
 * live, read from its stored log, which keeps both streams together.
 */
export const LogLineSourceSchema = z.enum(['stdout', 'stderr', 'hub', 'log']);
export type LogLineSource = z.infer<typeof LogLineSourceSchema>;

/** A line is cut into pieces of at most this many characters. */
export const MAX_LOG_LINE_CHARS = 16 * 1024;

/** One line of a followed log, as `?follow=true` answers it (an NDJSON line, or an SSE event's data). */
export const LiveLogLineSchema = z.object({
  /** When its first character was read by the runner (ISO 8601). */
  t: z.string(),
  stream: LogLineSourceSchema,
  /** Without its newline. */
  line: z.string(),
});
export type LiveLogLine = z.infer<typeof LiveLogLineSchema>;
