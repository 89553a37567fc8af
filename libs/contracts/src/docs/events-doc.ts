import { z } from 'zod';
import { EVENT_CATALOG, EVENT_STREAM, EventSubject } from '../events/event-catalog';
import { RPC_CATALOG, RpcSubject } from '../rpc/rpc-catalog';
import { OUTPUT_BUCKET } from '../object-store';

/**
 * docs/events.md, rendered from the catalogs themselves so that it cannot drift from them:
 * `npm run docs:events` writes it and a contracts test fails when it is out of date.
 */
export function renderEventsDoc(): string {
  const events = Object.keys(EVENT_CATALOG) as EventSubject[];
  const rpcs = Object.keys(RPC_CATALOG) as RpcSubject[];
  return [
    '# Events and request/reply subjects',
    '',
    '<!-- Generated from libs/contracts by `npm run docs:events`; do not edit by hand. -->',
    '',
    'Defined once in `libs/contracts` (`events/event-catalog.ts`, `rpc/rpc-catalog.ts`). Every publisher',
    'validates a payload before sending it and every consumer validates it on receipt. A malformed message',
    'is terminated (`term`) with a log line saying why; a handler that refuses an event for good',
    '(bad request, not found, conflict) terminates it too; only failures worth retrying are `nak`ed.',
    '',
    '## Envelope',
    'Every event is JSON `{ id, subject, occurredAt, data }`. `id` is also the JetStream message id',
    '(`Nats-Msg-Id`), so a republished event (outbox relay after a crash, runner retry) is dropped by the',
    "stream's duplicate window (10 minutes).",
    '',
    '## Stream and consumers',
    `\`${EVENT_STREAM.name}\`, file storage, subjects ${EVENT_STREAM.subjects.map((s) => `\`${s}\``).join(', ')}.`,
    'It keeps each event `HUB_EVENTS_MAX_AGE_DAYS` (the registry\'s setting, 30 days by default, 0 for ever: the',
    "stream's `max_age`, set as the registry starts); older events are dropped, whoever has not read them yet.",
    'Each service reads through one durable consumer per subject, named `<service>--<subject with . as _>`',
    '(nats-server 2.9 has no multi-filter consumers), and acks after its work is committed. Runners share one',
    'durable for `session.ready` (`container-runner--session_ready`), so ready sessions are split between',
    'them, each pulling only as many as it has free slots.',
    '',
    '**Integrations** name their durable consumers `integration--<your name>` (for instance',
    '`integration--slack-notifier`), filtered on the subject they want (usually `session.status-changed`),',
    'with deliver policy `all` and explicit acks: the stream keeps every event of its time window, so a consumer',
    'created after an orchestration finished still receives its history, and one that was down catches up from',
    'where it acked (when it was down for less than that window). A plain core-NATS `nats sub session.status-changed`',
    'sees events live, without history.',
    'Over HTTP, the gateway serves the same events as server-sent events (`GET /api/v1/events`, filtered by',
    'orchestration, session or subject, each with its stream sequence as id, resumable with `Last-Event-ID`);',
    '`examples/watch-orchestration.ts` is such a client.',
    '',
    '| subject | published by | consumed by | what it says |',
    '|---|---|---|---|',
    ...events.map((subject) => {
      const e = EVENT_CATALOG[subject];
      return `| \`${subject}\` | ${e.publishedBy} | ${e.consumedBy.join(', ')} | ${e.description} |`;
    }),
    '',
    '### Payloads (`data`), as JSON Schema',
    ...events.flatMap((subject) => [
      '',
      `#### \`${subject}\``,
      '```json',
      JSON.stringify(jsonSchemaOf(EVENT_CATALOG[subject].schema)),
      '```',
    ]),
    '',
    '## Request/reply (core NATS, one queue group per service)',
    'Answers are `{ ok: true, data }` or `{ ok: false, error: { code, message, details? } }` with code',
    '`bad_request | not_found | conflict | unavailable | internal`; the gateway maps them to 400/404/409/503/500.',
    'Answers stay small whatever the size of an orchestration (NATS messages are limited to 1 MiB by',
    'default): orchestration commands answer summaries, and `orchestrations.get` a bounded page of the sessions.',
    '',
    '| subject | answered by | caller waits | what it does | request fields |',
    '|---|---|---|---|---|',
    ...rpcs.map((subject) => {
      const r = RPC_CATALOG[subject];
      const fields = Object.keys((jsonSchemaOf(r.request).properties ?? {}) as object);
      return `| \`${subject}\` | ${r.respondedBy} | ${r.timeoutMs / 1000} s | ${r.description} | ${fields.map((f) => `\`${f}\``).join(', ') || '—'} |`;
    }),
    '',
    `Logs and output files are in the JetStream object store bucket \`${OUTPUT_BUCKET}\``,
    '(`<sessionId>/log`, `<sessionId>/output/<path>`): written by the runner, read by the gateway and by',
    "runners materialising a dependent's inputs.",
    '',
  ].join('\n');
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _omitted, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}
