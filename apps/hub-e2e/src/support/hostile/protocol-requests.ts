import fc, { type Arbitrary } from 'fast-check';
import type { HostileContext } from './hostile-envelope';
import { hostile, type HostileRequest } from './hostile-request';
import { badUtf8 } from './hostile-values';

const TARGETS = [
  '/health/live',
  '/api/v1/sessions',
  '/api/v1/orchestrations',
  '/api/webhooks/claude',
  '/mcp',
  '/api/v1/sessions/00000000-0000-4000-8000-000000000000/start',
  'http://evil.example/api/v1/sessions',
  '//api/v1/sessions',
  '*',
  'api/v1/sessions',
  '/%',
  '/api/v1/sessions/%ff',
];

/** Parts of a request line and of header lines, glued together without asking whether they make HTTP. */
const method = fc.oneof(
  { arbitrary: fc.constantFrom('GET', 'POST'), weight: 6 },
  { arbitrary: fc.constantFrom('FOO', 'get', 'G\u0000T', '', 'CONNECT', 'PRI', 'GET GET', 'POST\t', 'M'.repeat(100), 'DELETE', 'HEAD'), weight: 2 },
);
const version = fc.oneof(
  { arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0'), weight: 6 },
  { arbitrary: fc.constantFrom('HTTP/0.9', 'HTTP/2.0', 'HTTP/1.1 extra', 'http/1.1', 'HTTP/1.10', '', 'HTTP/9.9', 'HTTP/1.1\u0000'), weight: 2 },
);
const target = fc.oneof(
  { arbitrary: fc.constantFrom(...TARGETS), weight: 6 },
  { arbitrary: fc.tuple(fc.constantFrom(...TARGETS), badUtf8).map(([t, bad]) => `${t}${bad.toString('latin1')}`), weight: 1 },
  { arbitrary: fc.constantFrom('/health/live\u0000', '/ space', '/\u007f', '/\t', `/${'a'.repeat(20_000)}`, '/api/v1/sessions?\u0000=1'), weight: 1 },
);
const eol = fc.oneof({ arbitrary: fc.constant('\r\n'), weight: 10 }, { arbitrary: fc.constantFrom('\n', '\r', '\r\r\n', '\n\r'), weight: 1 });

const junkHeader = fc.constantFrom(
  'x-ctl: a\u0000b',
  'x-ctl: a\u0001b',
  'x-del: \u007f',
  'x-cr: a\rb',
  'no colon here',
  ': empty name',
  'bad name: x',
  'x-fold: a\r\n b',
  'x-latin1: \u00e9\u00ff',
  `x-big: ${'a'.repeat(64 * 1024)}`,
  Array.from({ length: 3000 }, (_, i) => `x-${i}: v`).join('\r\n'),
  'content-length: 5\r\ncontent-length: 6',
  'content-length: -1',
  'content-length: 1e3',
  'content-length:  5 ',
  'content-length: 0x10',
  'content-length: 99999999999999999999',
  'transfer-encoding: chunked, gzip',
  'transfer-encoding: gzip, chunked',
  'transfer-encoding: x',
  'transfer-encoding: chunked\r\ntransfer-encoding: identity',
  'transfer-encoding: chunked\r\ncontent-length: 3',
  'expect: 100-continue',
  'expect: foo',
  'upgrade: h2c\r\nconnection: upgrade, http2-settings\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA',
  'connection: keep-alive, close',
  'host: a\r\nhost: b',
  'content-type: application/json',
);

/** Bodies framed right, wrong or not at all. */
const body = fc.constantFrom(
  '',
  '{}',
  '{"prompt":1}',
  '0\r\n\r\n',
  '5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n',
  'zz\r\nabc\r\n0\r\n\r\n',
  '-1\r\nx\r\n0\r\n\r\n',
  'fffffffffffffffffff\r\nx\r\n',
  `1;${'e'.repeat(20_000)}\r\nx\r\n0\r\n\r\n`,
  '3\r\nabc\r\n0\r\nx-trailer: \u0000\r\n\r\n',
  '3\r\nabc',
  '{"prompt":1}GET /api/v1/sessions HTTP/1.1\r\nhost: x\r\n\r\n',
);

export function protocolRequests(ctx: HostileContext): Arbitrary<HostileRequest> {
  const auth = fc.constantFrom(
    { line: `authorization: Bearer ${ctx.token}`, authorized: true },
    { line: 'authorization: Bearer wrong', authorized: false },
    { line: '', authorized: false },
  );
  return fc
    .tuple(method, target, version, eol, fc.boolean(), auth, fc.array(junkHeader, { maxLength: 3 }), body, fc.boolean())
    .map(([m, t, v, nl, host, credentials, junk, b, declareLength]) => {
      const headers = [
        ...(host ? ['host: 127.0.0.1'] : []),
        ...(credentials.line ? [credentials.line] : []),
        ...junk.map((h) => h.replace(/\r\n/g, nl)),
        ...(declareLength && !junk.some((h) => /content-length|transfer-encoding/.test(h)) ? [`content-length: ${Buffer.byteLength(b, 'latin1')}`] : []),
      ];
      const text = `${[`${m} ${t} ${v}`.trimEnd(), ...headers].join(nl)}${nl}${nl}${b}`;
      return hostile({
        route: 'raw HTTP/1.x',
        method: m,
        path: t,
        headers: [],
        authorized: credentials.authorized,
        raw: Buffer.from(text, 'latin1'),
        expect: { mayAnswerEmpty400: t.includes('/mcp') },
        note: `request line ${JSON.stringify(`${m} ${t.slice(0, 60)} ${v}`)}; ${junk.length} odd header lines; body ${JSON.stringify(b.slice(0, 40))}`,
      });
    });
}
