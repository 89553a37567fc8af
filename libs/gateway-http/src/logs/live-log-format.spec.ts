import { LiveLogLineSchema, type LiveLogLine } from '@hub/contracts';
import { liveLogFormatFor, NDJSON, SSE } from './live-log-format';

const LINES: LiveLogLine[] = [
  { t: '2026-01-02T03:04:05.006Z', stream: 'stdout', line: 'plain' },
  { t: '2026-01-02T03:04:05.007Z', stream: 'stderr', line: 'a "quoted" \\ back\rslash\u2028 and \u0000 control' },
  { t: '2026-01-02T03:04:05.008Z', stream: 'hub', line: '' },
  { t: '2026-01-02T03:04:05.009Z', stream: 'stdout', line: 'data: not a field\n\nevent: end' },
];

/** The `data` of each event of an SSE stream, and the event's type, parsed as EventSource does. */
function parseSse(text: string): { event: string; data: string }[] {
  const events: { event: string; data: string }[] = [];
  for (const block of text.split('\n\n').filter(Boolean)) {
    const fields = block.split(/\r\n|\r|\n/).filter((line) => !line.startsWith(':'));
    if (!fields.length) continue;
    const value = (name: string) => fields.filter((f) => f.startsWith(`${name}: `)).map((f) => f.slice(name.length + 2));
    events.push({ event: value('event')[0] ?? 'message', data: value('data').join('\n') });
  }
  return events;
}

describe('NDJSON framing', () => {
  it('writes each line as one JSON object on one line, whatever the line holds', () => {
    const body = NDJSON.start + LINES.map(NDJSON.line).join('') + NDJSON.end;
    const objects = body.split('\n');
    expect(objects.pop()).toBe('');
    expect(objects.map((object) => LiveLogLineSchema.parse(JSON.parse(object)))).toEqual(LINES);
    expect(NDJSON.contentType).toBe('application/x-ndjson');
  });
});

describe('SSE framing', () => {
  it('opens with a comment, sends each line as a message of its JSON, and ends with an end event', () => {
    const body = SSE.start + LINES.map(SSE.line).join('') + SSE.end;
    expect(body.startsWith(':')).toBe(true);
    const events = parseSse(body);
    expect(events.slice(0, -1).map((e) => e.event)).toEqual(LINES.map(() => 'message'));
    expect(events.slice(0, -1).map((e) => JSON.parse(e.data))).toEqual(LINES);
    expect(events.at(-1)).toEqual({ event: 'end', data: '{}' });
    expect(SSE.contentType).toBe('text/event-stream; charset=utf-8');
  });

  it('keeps every event one data field: no raw CR or LF from a line reaches the stream', () => {
    for (const line of LINES) expect(SSE.line(line).slice(0, -2)).not.toMatch(/[\r\n]/);
  });
});

describe('liveLogFormatFor', () => {
  it('answers SSE to a client that accepts text/event-stream, NDJSON to any other', () => {
    expect(liveLogFormatFor('text/event-stream')).toBe(SSE);
    expect(liveLogFormatFor('Text/Event-Stream; q=0.9, */*')).toBe(SSE);
    expect(liveLogFormatFor(undefined)).toBe(NDJSON);
    expect(liveLogFormatFor('*/*')).toBe(NDJSON);
    expect(liveLogFormatFor('application/x-ndjson')).toBe(NDJSON);
  });
});
