import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A fake of the Anthropic Messages API, for running the real Claude Code CLI offline: a node http
// server on 127.0.0.1 that answers `POST /v1/messages` as the API does (a JSON message, or the same
// as server-sent events when the request asks to stream), with a canned answer (or a tool call, when
// the test scripts one) and the usage figures it was given, and records every request it gets. On
// demand it refuses messages as the API does when a rate limit is hit (429 `rate_limit_error`, with
// `retry-after` and `anthropic-ratelimit-*-reset`) or when it is overloaded (529). Everything else
// is answered harmlessly and recorded.

/** The sentence every answer of the fake contains, to recognise it in a session's output. */
export const FAKE_ANSWER = 'The fake Anthropic API read your prompt; nothing left this machine.';

export interface RecordedRequest {
  method: string;
  /** The path and query, as asked (absolute-form targets are reduced to it). */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The usage an answer reports, as the API names it (message_start, message_delta and the JSON answer). */
export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** One answer of the fake: a text (ending the turn), or a tool call Claude Code runs before it asks again. */
export type FakeTurn = { text: string } | { toolUse: { name: string; input: Record<string, unknown> } };

export interface FakeAnthropicApiOptions {
  /** What every answer says (default FAKE_ANSWER). */
  answer?: string;
  /**
   * What to answer a request, when not always `answer`: e.g. a tool call for a prompt that asks for a
   * change, then (its result being the last message) the answer.
   */
  reply?: (body: MessagesRequest) => FakeTurn;
  /**
   * The usage every answer reports; kinds not given are counted roughly (input and output: about four
   * characters a token; cache: 0).
   */
  usage?: Partial<FakeUsage>;
}

/** The error body the real API sends with a 429. */
export const RATE_LIMIT_MESSAGE = 'This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later.';

export interface FakeAnthropicApi {
  port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** The `POST /v1/messages` requests, with their JSON bodies and the status answered (429 or 529: refused). */
  messages(): { request: RecordedRequest; body: MessagesRequest; status: number }[];
  /**
   * Refuses every `POST /v1/messages` with 429 `rate_limit_error` for `ms` milliseconds, from now or
   * from the next such request (Claude Code asks some seconds after its container started), with
   * `retry-after` (whole seconds left) and `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset`
   * (when it ends, RFC 3339).
   */
  rateLimitFor(ms: number, from?: 'now' | 'next request'): void;
  /** Refuses the next `count` `POST /v1/messages` with 429 `rate_limit_error` (resetting `resetInMs` after each). */
  rateLimitNext(count: number, resetInMs?: number): void;
  /** Refuses the next `count` `POST /v1/messages` with 529 `overloaded_error` (not a rate limit). */
  overloadNext(count: number): void;
  /** `METHOD /path` of every request, for a failure message that says what was asked. */
  summary(): string[];
  close(): Promise<void>;
}

export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: string | { type: string; text?: string; name?: string; input?: unknown; content?: unknown }[] }[];
  system?: string | { type: string; text?: string }[];
}

/** The blocks of a message's content (a string is one text block). */
const blocksOf = (content: NonNullable<MessagesRequest['messages']>[number]['content']) =>
  typeof content === 'string' ? [{ type: 'text', text: content }] : content;

/** The request's last user message (Claude Code may put system messages after it). */
const lastUserMessage = (body: MessagesRequest) => [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');

/** Whether the request's last user message carries a tool's result (Claude Code ran the tool the fake asked for). */
export const answersToolCall = (body: MessagesRequest): boolean =>
  blocksOf(lastUserMessage(body)?.content ?? []).some((block) => block.type === 'tool_result');

/** The text of the request's last user message (what it asks now), or '' when that message answers a tool call. */
export function lastUserText(body: MessagesRequest): string {
  if (answersToolCall(body)) return '';
  return blocksOf(lastUserMessage(body)?.content ?? [])
    .map((block) => (block.type === 'text' ? (block.text ?? '') : ''))
    .join('\n');
}

/** The text of a Messages request's assistant turns (text blocks, and tool calls as `name(input)`). */
export function assistantText(body: MessagesRequest): string {
  return (body.messages ?? [])
    .filter((message) => message.role === 'assistant')
    .flatMap((message) => blocksOf(message.content).map((block) => (block.type === 'tool_use' ? `${block.name}(${JSON.stringify(block.input)})` : (block.text ?? ''))))
    .join('\n');
}

/** The text of a Messages request's user turns (string contents and text blocks). */
export function userText(body: MessagesRequest): string {
  return (body.messages ?? [])
    .filter((message) => message.role === 'user')
    .flatMap((message) => (typeof message.content === 'string' ? [message.content] : message.content.map((block) => block.text ?? '')))
    .join('\n');
}

/** How the next messages are refused: for a time (`until`, set by the first refusal when not yet), or a number of them. */
interface Refusal {
  status: 429 | 529;
  /** Refused for this long: `until` is when that ends (undefined: from the next request). */
  forMs?: number;
  until?: number;
  count?: number;
  /** For a counted rate limit: how long after each refusal it resets. */
  resetInMs: number;
}

export async function startFakeAnthropicApi(options: string | FakeAnthropicApiOptions = {}): Promise<FakeAnthropicApi> {
  const { answer = FAKE_ANSWER, usage = {}, reply = () => ({ text: answer }) } = typeof options === 'string' ? { answer: options } : options;
  const requests: RecordedRequest[] = [];
  const refused = new Map<RecordedRequest, number>();
  let refusal: Refusal | null = null;

  /** The refusal that applies to this messages request now, if any (a counted one is used up by it). */
  const refusalNow = (): { status: 429 | 529; resetAt: number } | null => {
    if (!refusal) return null;
    const now = Date.now();
    if (refusal.forMs !== undefined) {
      refusal.until ??= now + refusal.forMs;
      if (now < refusal.until) return { status: refusal.status, resetAt: refusal.until };
      refusal = null;
      return null;
    }
    if ((refusal.count ?? 0) > 0) {
      refusal.count = (refusal.count ?? 0) - 1;
      const current = { status: refusal.status, resetAt: now + refusal.resetInMs };
      if (refusal.count === 0) refusal = null;
      return current;
    }
    refusal = null;
    return null;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '?', path: pathOf(req), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      if (isMessages(request)) {
        const refusing = refusalNow();
        if (refusing) {
          refused.set(request, refusing.status);
          return refusing.status === 429 ? rateLimited(res, refusing.resetAt) : apiError(res, 529, 'overloaded_error', 'Overloaded');
        }
      }
      respond(request, res, reply, usage);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    messages: () =>
      requests.filter(isMessages).map((request) => ({ request, body: JSON.parse(request.body) as MessagesRequest, status: refused.get(request) ?? 200 })),
    rateLimitFor(ms, from = 'now') {
      refusal = { status: 429, forMs: ms, until: from === 'now' ? Date.now() + ms : undefined, resetInMs: ms };
    },
    rateLimitNext(count, resetInMs = 60_000) {
      refusal = { status: 429, count, resetInMs };
    },
    overloadNext(count) {
      refusal = { status: 529, count, resetInMs: 0 };
    },
    summary: () => requests.map((r) => `${r.method} ${r.path}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const isMessages = (request: RecordedRequest) => request.method === 'POST' && request.path.split('?')[0] === '/v1/messages';

function pathOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  if (!/^https?:\/\//.test(target)) return target;
  const url = new URL(target);
  return `${url.pathname}${url.search}`;
}

function respond(request: RecordedRequest, res: ServerResponse, reply: (body: MessagesRequest) => FakeTurn, usage: Partial<FakeUsage>): void {
  const path = request.path.split('?')[0];
  if (request.method === 'POST' && path === '/v1/messages') {
    let body: MessagesRequest;
    try {
      body = JSON.parse(request.body) as MessagesRequest;
    } catch {
      return apiError(res, 400, 'invalid_request_error', 'the body is not JSON');
    }
    const turn = reply(body);
    return body.stream ? streamMessage(res, body, turn, usage) : sendJson(res, 200, message(body, turn, usage, true));
  }
  if (request.method === 'POST' && path === '/v1/messages/count_tokens') {
    return sendJson(res, 200, { input_tokens: tokens(request.body) });
  }
  if (request.method === 'HEAD' || (request.method === 'GET' && path === '/')) {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return void res.end(request.method === 'HEAD' ? undefined : 'ok\n');
  }
  apiError(res, 404, 'not_found_error', `the fake Anthropic API has no ${request.method} ${path}`);
}

/** A rough count, as the real one is of tokens: about four characters each. */
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function usageOf(body: MessagesRequest, turn: FakeTurn, usage: Partial<FakeUsage>): FakeUsage {
  return {
    input_tokens: usage.input_tokens ?? tokens(JSON.stringify(body.messages ?? [])),
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    output_tokens: usage.output_tokens ?? tokens('text' in turn ? turn.text : JSON.stringify(turn.toolUse.input)),
  };
}

/** The turn's content block: its text, or the tool call (with an id of its own). */
function blockOf(turn: FakeTurn) {
  return 'text' in turn
    ? { type: 'text', text: turn.text }
    : { type: 'tool_use', id: `toolu_fake_${randomBytes(12).toString('hex')}`, name: turn.toolUse.name, input: turn.toolUse.input };
}

const stopReasonOf = (turn: FakeTurn) => ('text' in turn ? 'end_turn' : 'tool_use');

/** The answer; or, not `complete`, the message_start of its stream (no content yet, one output token so far). */
function message(body: MessagesRequest, turn: FakeTurn, usage: Partial<FakeUsage>, complete: boolean) {
  const counted = usageOf(body, turn, usage);
  return {
    id: `msg_fake_${randomBytes(12).toString('hex')}`,
    type: 'message',
    role: 'assistant',
    model: body.model ?? 'claude-fake',
    content: complete ? [blockOf(turn)] : [],
    stop_reason: complete ? stopReasonOf(turn) : null,
    stop_sequence: null,
    usage: complete ? counted : { ...counted, output_tokens: 1 },
  };
}

/**
 * The answer as the API streams it: message_start (with the input and cache usage), one content block
 * (text, or a tool call's input as JSON) in two deltas, message_delta (with the stop reason and the
 * usage, output tokens included, as the API repeats it there), message_stop.
 */
function streamMessage(res: ServerResponse, body: MessagesRequest, turn: FakeTurn, usage: Partial<FakeUsage>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${randomBytes(8).toString('hex')}` });
  const block = blockOf(turn);
  const [opened, text, deltaType, field] =
    'text' in turn
      ? [{ ...block, text: '' }, turn.text, 'text_delta', 'text']
      : [{ ...block, input: {} }, JSON.stringify(turn.toolUse.input), 'input_json_delta', 'partial_json'];
  const half = Math.ceil(text.length / 2);
  const events: [string, unknown][] = [
    ['message_start', { type: 'message_start', message: message(body, turn, usage, false) }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: opened }],
    ['ping', { type: 'ping' }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: deltaType, [field]: text.slice(0, half) } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: deltaType, [field]: text.slice(half) } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: stopReasonOf(turn), stop_sequence: null }, usage: usageOf(body, turn, usage) }],
    ['message_stop', { type: 'message_stop' }],
  ];
  res.end(events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': `req_fake_${randomBytes(8).toString('hex')}`,
    ...headers,
  });
  res.end(text);
}

function apiError(res: ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { type: 'error', error: { type, message: text } }, headers);
}

/** A 429 as the API sends it: the error body, `retry-after` in seconds, and when each limit resets. */
function rateLimited(res: ServerResponse, resetAt: number): void {
  const reset = new Date(resetAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const headers: Record<string, string> = { 'retry-after': String(Math.max(1, Math.ceil((resetAt - Date.now()) / 1000))), 'x-should-retry': 'true' };
  for (const limit of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
    headers[`anthropic-ratelimit-${limit}-limit`] = limit === 'requests' ? '50' : '40000';
    headers[`anthropic-ratelimit-${limit}-remaining`] = '0';
    headers[`anthropic-ratelimit-${limit}-reset`] = reset;
  }
  apiError(res, 429, 'rate_limit_error', RATE_LIMIT_MESSAGE, headers);
}
