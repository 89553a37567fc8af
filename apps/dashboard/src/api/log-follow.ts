import type { LiveLogLine } from '@hub/contracts';
import type { HubClient } from './hub-client';
import { LineSplitter, textChunks } from './text-stream';

/**
 * An attempt's log lines as they are printed (`?follow=true`, NDJSON), a batch per piece of the
 * stream (so a page renders once per batch, not per line), until the attempt ends or `signal` aborts.
 * A line that is not a log line's JSON is shown as Hub's note, never dropped.
 */
export async function* followLog(client: HubClient, sessionId: string, attempt: number, signal: AbortSignal): AsyncGenerator<LiveLogLine[]> {
  const response = await client.followSessionLog(sessionId, attempt, signal);
  const splitter = new LineSplitter();
  for await (const text of textChunks(response.body!)) {
    const lines = splitter.push(text).flatMap(parseLine);
    if (lines.length) yield lines;
  }
  const last = splitter.flush().flatMap(parseLine);
  if (last.length) yield last;
}

export function parseLine(text: string): LiveLogLine[] {
  if (!text.trim()) return [];
  try {
    const value = JSON.parse(text) as LiveLogLine;
    if (typeof value.line === 'string' && typeof value.stream === 'string') return [value];
  } catch {
    // shown as it came, below
  }
  return [{ t: new Date().toISOString(), stream: 'hub', line: text }];
}
