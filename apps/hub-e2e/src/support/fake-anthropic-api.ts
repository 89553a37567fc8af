import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A fake of the Anthropic Messages API, for running the real Claude Code CLI offline: a node http
// server on 127.0.0.1 that answers `POST /v1/messages` as the API does for a one-turn exchange
// (a JSON message, or the same as server-sent events when the request asks to stream), with a canned
// answer, and records every request it gets. Everything else is answered harmlessly and recorded.

/** The sentence every answer of the fake contains, to recognise it in a session's output. */
export const FAKE_ANSWER = 'The fake Anthropic API read your prompt; nothing left this machine.';

export interface RecordedRequest {
  method: string;
  /** The path and query, as asked (absolute-form targets are reduced to it). */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeAnthropicApi {
  port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** The `POST /v1/messages` requests, with their JSON bodies. */
  messages(): { request: RecordedRequest; body: MessagesRequest }[];
  /** `METHOD /path` of every request, for a failure message that says what was asked. */
  summary(): string[];
  close(): Promise<void>;
}

interface MessagesRequest {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: string | { type: string; text?: string }[] }[];
  system?: string | { type: string; text?: string }[];
}

/** The text of a Messages request's user turns (string contents and text blocks). */
export function userText(body: MessagesRequest): string {
  return (body.messages ?? [])
    .filter((message) => message.role === 'user')
    .flatMap((message) => (typeof message.content === 'string' ? [message.content] : message.content.map((block) => block.text ?? '')))
    .join('\n');
}

export async function startFakeAnthropicApi(answer: string = FAKE_ANSWER): Promise<FakeAnthropicApi> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '?', path: pathOf(req), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      respond(request, res, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    messages: () =>
      requests
        .filter((r) => r.method === 'POST' && r.path.split('?')[0] === '/v1/messages')
        .map((request) => ({ request, body: JSON.parse(request.body) as MessagesRequest })),
    summary: () => requests.map((r) => `${r.method} ${r.path}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function pathOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  if (!/^https?:\/\//.test(target)) return target;
  const url = new URL(target);
  return `${url.pathname}${url.search}`;
}

function respond(request: RecordedRequest, res: ServerResponse, answer: string): void {
  const path = request.path.split('?')[0];
  if (request.method === 'POST' && path === '/v1/messages') {
    let body: MessagesRequest;
    try {
      body = JSON.parse(request.body) as MessagesRequest;
    } catch {
      return apiError(res, 400, 'invalid_request_error', 'the body is not JSON');
    }
    return body.stream ? streamMessage(res, body, answer) : sendJson(res, 200, message(body, answer, 'end_turn'));
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

function message(body: MessagesRequest, answer: string, stopReason: string | null) {
  return {
    id: `msg_fake_${randomBytes(12).toString('hex')}`,
    type: 'message',
    role: 'assistant',
    model: body.model ?? 'claude-fake',
    content: stopReason ? [{ type: 'text', text: answer }] : [],
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: tokens(JSON.stringify(body.messages ?? [])),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: stopReason ? tokens(answer) : 1,
    },
  };
}

/** The answer as the API streams it: message_start, one text block in two deltas, message_delta, message_stop. */
function streamMessage(res: ServerResponse, body: MessagesRequest, answer: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${randomBytes(8).toString('hex')}` });
  const start = message(body, answer, null);
  const half = Math.ceil(answer.length / 2);
  const events: [string, unknown][] = [
    ['message_start', { type: 'message_start', message: start }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['ping', { type: 'ping' }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: answer.slice(0, half) } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: answer.slice(half) } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: tokens(answer) } }],
    ['message_stop', { type: 'message_stop' }],
  ];
  res.end(events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join(''));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'request-id': `req_fake_${randomBytes(8).toString('hex')}` });
  res.end(text);
}

function apiError(res: ServerResponse, status: number, type: string, text: string): void {
  sendJson(res, status, { type: 'error', error: { type, message: text } });
}
