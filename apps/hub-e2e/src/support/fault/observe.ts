import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import type { HubStack } from '@hub/infra';
import { EVENT_STREAM, EVENTS, type SessionStatus } from '@hub/contracts';
import { docker } from '../docker';
import { connectToBus } from '../test-stack';

/** A container event Docker itself recorded for a session's container. */
export interface DockerContainerEvent {
  action: 'create' | 'start' | 'die' | 'destroy';
  sessionId: string;
  attempt: number;
  containerId: string;
  at: number;
  /** For `die`: the exit code Docker saw. */
  exitCode: number | null;
}

/**
 * Docker's own record (its event stream) of the create/start/die/destroy of containers labelled
 * `hub.session`, recorded live from `start()`: what the fault test counts containers from,
 * independently of anything Hub says. (Asking Docker for past events afterwards is not enough: the
 * engine keeps only the last few hundred in memory.)
 */
export class DockerEventRecorder {
  private readonly raw: string[] = [];
  private stream: NodeJS.ReadableStream & { destroy?: () => void } | null = null;
  private pending = '';

  /** `client`: the engine recorded (the machine's own by default; another engine's for several runners). */
  constructor(private readonly client: Docker = docker) {}

  async start(): Promise<void> {
    this.stream = (await this.client.getEvents({
      filters: { type: ['container'], event: ['create', 'start', 'die', 'destroy'], label: ['hub.session'] },
    })) as NodeJS.ReadableStream;
    this.stream.on('data', (chunk: Buffer) => {
      const lines = (this.pending + chunk.toString()).split('\n');
      this.pending = lines.pop() ?? '';
      this.raw.push(...lines.filter(Boolean));
    });
    this.stream.on('error', () => undefined);
  }

  /** Stops recording (after a moment for the last events to arrive); the events of these sessions. */
  async stop(sessionIds: ReadonlySet<string>): Promise<DockerContainerEvent[]> {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    this.close();
    const events: DockerContainerEvent[] = [];
    for (const line of this.raw) {
      const raw = JSON.parse(line);
      const attributes = raw.Actor?.Attributes ?? {};
      const sessionId = attributes['hub.session'];
      if (!sessionIds.has(sessionId)) continue;
      events.push({
        action: raw.Action ?? raw.status,
        sessionId,
        attempt: Number.parseInt(attributes['hub.attempt'] ?? '', 10) || 0,
        containerId: raw.Actor?.ID ?? raw.id,
        at: raw.timeNano ? Math.round(Number(raw.timeNano) / 1e6) : raw.time * 1000,
        exitCode: attributes.exitCode !== undefined ? Number(attributes.exitCode) : null,
      });
    }
    return events;
  }

  close(): void {
    this.stream?.destroy?.();
    this.stream = null;
  }
}

/** Containers that still exist for these sessions. */
export async function containersLeft(sessionIds: ReadonlySet<string>): Promise<{ id: string; sessionId: string; attempt: string; state: string }[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: ['hub.session'] } });
  return containers
    .filter((c) => sessionIds.has(c.Labels['hub.session']))
    .map((c) => ({ id: c.Id, sessionId: c.Labels['hub.session'], attempt: c.Labels['hub.attempt'], state: c.State }));
}

/** One `session.status-changed` as the HUB_EVENTS stream holds it. */
export interface StatusChange {
  eventId: string;
  streamSeq: number;
  sessionId: string;
  orchestrationId: string;
  from: SessionStatus;
  to: SessionStatus;
  reason: string | null;
  exitCode: number | null;
  at: number;
}

/**
 * Every `session.status-changed` of one orchestration the stream holds, in stream order, read with
 * an ordered consumer from the first message: exactly what an integration reading the history gets.
 */
export async function readStatusChanges(stack: HubStack, orchestrationId: string): Promise<StatusChange[]> {
  const nc = await connectToBus(stack, { name: 'fault-test-reader' });
  try {
    // An ordered consumer starts at the stream's first message.
    const consumer = await nc.jetstream().consumers.get(EVENT_STREAM.name, { filterSubjects: EVENTS.sessionStatusChanged });
    const changes: StatusChange[] = [];
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2_000 });
      let received = 0;
      for await (const msg of batch) {
        received++;
        const envelope = msg.json<{ id: string; data: Record<string, any> }>();
        if (envelope.data.orchestrationId !== orchestrationId) continue;
        changes.push({
          eventId: envelope.id,
          streamSeq: msg.seq,
          sessionId: envelope.data.sessionId,
          orchestrationId: envelope.data.orchestrationId,
          from: envelope.data.from,
          to: envelope.data.to,
          reason: envelope.data.reason,
          exitCode: envelope.data.exitCode,
          at: Date.parse(envelope.data.at),
        });
      }
      if (received === 0) return changes;
    }
  } finally {
    await nc.close();
  }
}

/** Log lines of a service (pino JSON) whose fields match, e.g. { msg: 'removing orphan container' }. */
export function logLines(logFile: string, msg: string): Record<string, any>[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const lines: Record<string, any>[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const parsed = JSON.parse(line);
      if (parsed.msg === msg) lines.push(parsed);
    } catch {
      // not a JSON line
    }
  }
  return lines;
}
