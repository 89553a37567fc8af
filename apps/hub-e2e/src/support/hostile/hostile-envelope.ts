import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib';
import fc, { type Arbitrary } from 'fast-check';
import { badUtf8 } from './hostile-values';

/** What every generator needs to know about the stack under test. */
export interface HostileContext {
  token: string;
  /** The gateway's body limit (HUB_MAX_BODY_BYTES, 1 MiB by default). */
  bodyLimit: number;
  /** Read-only fixtures: GET routes may target them; nothing that changes state ever does. */
  fixture: {
    sessionId: string;
    orchestrationId: string;
    files: { path: string; content: string }[];
  };
}

type Header = [string, string];

export interface Auth {
  headers: Header[];
  authorized: boolean;
  note: string;
}

/** The right token (in the spellings the scheme allows) or a wrong, missing or mangled one. */
export function auth(token: string): Arbitrary<Auth> {
  const good = (value: string, note: string): Auth => ({ headers: [['authorization', value]], authorized: true, note });
  const bad = (headers: Header[], note: string): Auth => ({ headers, authorized: false, note });
  return fc.oneof(
    { arbitrary: fc.constant(good(`Bearer ${token}`, 'token')), weight: 12 },
    { arbitrary: fc.constantFrom(good(`bearer ${token}`, 'token, lower-case scheme'), good(`Bearer \t${token}`, 'token after a tab')), weight: 1 },
    {
      arbitrary: fc.constantFrom(
        bad([], 'no Authorization'),
        bad([['authorization', '']], 'empty Authorization'),
        bad([['authorization', 'Bearer']], 'scheme only'),
        bad([['authorization', token]], 'token without scheme'),
        bad([['authorization', `Basic ${Buffer.from(`hub:${token}`).toString('base64')}`]], 'Basic'),
        bad([['authorization', `Bearer ${token} ${token}`]], 'two tokens'),
        bad([['authorization', `Bearer ${token}x`]], 'token with a suffix'),
        bad([['authorization', `Bearer ${token.slice(0, -1)}`]], 'token cut short'),
        bad([['authorization', `Bearer ${token.toUpperCase()}`]], 'token upper-cased'),
        bad([['authorization', `Bearer ${'a'.repeat(8192)}`]], '8 KiB token'),
        bad([['authorization', `Bearer ${token}\u00ff`]], 'token with a latin-1 byte'),
        bad([['authorization', 'Bearer wrong'], ['authorization', `Bearer ${token}`]], 'wrong token, then the right one'),
        bad([['x-api-key', token]], 'token in another header'),
        bad([['cookie', `token=${token}`]], 'token in a cookie'),
      ),
      weight: 5,
    },
  );
}

/** Content-Type values for a JSON body: mostly right, then wrong, odd or absent. */
export const jsonContentType: Arbitrary<Header[]> = fc.oneof(
  { arbitrary: fc.constant<Header[]>([['content-type', 'application/json']]), weight: 12 },
  {
    arbitrary: fc.constantFrom<Header[]>(
      [['content-type', 'application/json; charset=utf-8']],
      [['content-type', 'APPLICATION/JSON']],
      [['content-type', 'application/json; charset=utf-16']],
      [['content-type', 'application/json; charset=latin1']],
      [['content-type', 'application/json; charset="utf-8"; charset=koi8-r']],
      [['content-type', 'text/plain']],
      [['content-type', 'application/x-www-form-urlencoded']],
      [['content-type', 'multipart/form-data; boundary=x']],
      [['content-type', 'application/vnd.api+json']],
      [['content-type', 'application/json, text/plain']],
      [['content-type', '']],
      [['content-type', ';;;']],
      [['content-type', `application/json; ${'x=y; '.repeat(800)}`]],
      [['content-type', 'application/json'], ['content-type', 'text/plain']],
      [],
    ),
    weight: 3,
  },
);

export interface ExtraHeaders {
  headers: Header[];
  noHost?: boolean;
  /** Host missing or unusable: the MCP SDK's adapter answers those with an empty 400. */
  hostileHost?: boolean;
  note: string;
}

const one = (name: string, value: string): ExtraHeaders => ({ headers: [[name, value]], note: `${name}: ${value.slice(0, 40)}` });

/** Headers nobody asked for: odd hosts, forwarding claims, method overrides, 64 KiB values, thousands of them. */
export const extraHeaders: Arbitrary<ExtraHeaders> = fc.oneof(
  { arbitrary: fc.constant<ExtraHeaders>({ headers: [], note: '' }), weight: 20 },
  {
    arbitrary: fc.constantFrom(
      one('x-forwarded-for', '127.0.0.1, ::1, evil'),
      one('forwarded', 'for=unknown;host=evil;proto=gopher'),
      one('x-forwarded-host', 'evil.example'),
      one('x-http-method-override', 'DELETE'),
      one('x-original-url', '/api/v1/sessions'),
      one('cookie', `a=${'b'.repeat(4000)}`),
      one('range', 'bytes=0-0,-1'),
      one('if-none-match', '*'),
      one('accept', '*/*;q=0.1, application/json;q=999'),
      one('accept-encoding', 'gzip;q=-1, br, zstd, x'),
      one('accept-charset', 'utf-7'),
      one('user-agent', 'ÿþ\u00e9'),
      one('origin', 'null'),
      one('connection', 'close'),
      one('connection', 'upgrade'),
      one('upgrade', 'websocket'),
      one('te', 'trailers, deflate'),
      one('expect', 'foo'),
      one('expect', '100-continue'),
      one('content-encoding', 'identity'),
      one('mcp-session-id', '../../etc/passwd'),
      one('mcp-protocol-version', '1999-01-01'),
    ),
    weight: 6,
  },
  {
    arbitrary: fc.constantFrom<ExtraHeaders>(
      { headers: [['host', 'evil.example']], note: 'foreign Host' },
      { headers: [['host', '']], hostileHost: true, note: 'empty Host' },
      { headers: [['host', 'a b']], hostileHost: true, note: 'Host with a space' },
      { headers: [['host', '[::1]:99999']], hostileHost: true, note: 'Host with a bad port' },
      { headers: [['host', `${'h'.repeat(1000)}.example`]], note: 'long Host' },
      { headers: [['host', '127.0.0.1'], ['host', 'evil']], hostileHost: true, note: 'two Hosts' },
      { headers: [], noHost: true, hostileHost: true, note: 'no Host' },
    ),
    weight: 1,
  },
  {
    arbitrary: fc.constantFrom(16 * 1024, 64 * 1024).map<ExtraHeaders>((size) => ({
      headers: [['x-big', 'a'.repeat(size)]],
      note: `a ${size / 1024} KiB header`,
    })),
    weight: 1,
  },
  {
    arbitrary: fc.constantFrom(100, 500, 1000, 3000).map<ExtraHeaders>((count) => ({
      headers: Array.from({ length: count }, (_, i): Header => [`x-many-${i}`, 'v']),
      note: `${count} headers`,
    })),
    weight: 1,
  },
);

export interface Body {
  bytes: Buffer;
  /** Content-Encoding and the like, to go with the bytes. */
  headers: Header[];
  chunks?: number;
  /** Over the body limit: the server may stop reading and close. */
  oversized?: boolean;
  note: string;
}

let bomb: Buffer | undefined;
/** 64 MiB of zeros, gzipped to about 64 KiB: the limit must apply to what it inflates to. */
const gzipBomb = () => (bomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024)));

/** `{` + extra members + `,` + the rest of `json` (an object serialisation), or `json` unchanged if it is no object. */
function prefixMembers(json: string, members: string): string {
  if (!json.startsWith('{')) return json;
  return json === '{}' ? `{${members}}` : `{${members},${json.slice(1)}`;
}

function appendMember(json: string, member: string): string {
  if (!json.startsWith('{')) return json;
  return json === '{}' ? `{${member}}` : `${json.slice(0, -1)},${member}}`;
}

const compress: Record<string, (bytes: Buffer) => Buffer> = {
  gzip: (bytes) => gzipSync(bytes),
  deflate: (bytes) => deflateSync(bytes),
  br: (bytes) => brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }),
};

const NOT_JSON_OBJECTS = [
  '',
  ' ',
  'null',
  'true',
  '0',
  '"string"',
  '[]',
  '{',
  '{"prompt":',
  '{"prompt":"x"',
  '{"prompt":"x"}}',
  '{"prompt":"x"} trailing',
  "{'prompt':'x'}",
  '{"prompt":"x",}',
  '{prompt:"x"}',
  '{"prompt":NaN}',
  '{"prompt":Infinity}',
  '{"prompt":0x10}',
  '{"prompt":"x" /* comment */}',
  '\ufeff{"prompt":1}',
  '{"prompt":"\\ud800\\udc00\\u0000\\uZZZZ"}',
  '{"a":1}'.repeat(1000),
];

/**
 * Bodies for a JSON route from values that are invalid by construction. Every transformation keeps
 * them invalid: bytes that are not UTF-8 go only into an extra member (unknown to strict schemas,
 * dropped by lax ones), later duplicate members win over earlier ones, and padding, nesting and
 * huge arrays are added as members of their own.
 */
export function jsonBodies(invalid: Arbitrary<{ value: unknown; why: string }>, limit: number, arrayField: string): Arbitrary<Body> {
  const text = invalid.map(({ value, why }) => ({ json: JSON.stringify(value) ?? 'null', why }));
  const plain = text.map(({ json, why }): Body => ({ bytes: Buffer.from(json), headers: [], note: why }));

  const notUtf8 = fc.tuple(text, badUtf8, badUtf8).map(([{ json, why }, key, value]): Body => {
    const member = Buffer.concat([Buffer.from('"'), key, Buffer.from('":"'), value, Buffer.from('"')]).toString('latin1');
    return { bytes: Buffer.from(prefixMembers(json, member), 'latin1'), headers: [], note: `${why}; bytes that are not UTF-8` };
  });
  const pollution = text.map(({ json, why }): Body => {
    const members = '"__proto__":{"polluted":true,"prompt":"x","isAdmin":true},"constructor":{"prototype":{"polluted":true}}';
    return { bytes: Buffer.from(prefixMembers(json, members)), headers: [], note: `${why}; __proto__ and constructor members` };
  });
  const duplicates = text.map(({ json, why }): Body => ({
    bytes: Buffer.from(prefixMembers(json, '"prompt":"valid","name":"valid","type":"analysis","sessions":[]')),
    headers: [],
    note: `${why}; valid duplicate members first (the later, invalid ones win)`,
  }));
  // The costly ones (100,000 levels or items: a few hundred ms of the gateway's time each) are rarer.
  const depth = fc.oneof({ arbitrary: fc.constantFrom(1_000, 10_000), weight: 4 }, { arbitrary: fc.constant(100_000), weight: 1 });
  const nested = fc.tuple(text, depth, fc.boolean()).map(([{ json, why }, levels, arrays]): Body => {
    const nest = arrays ? `${'['.repeat(levels)}${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
    return { bytes: Buffer.from(appendMember(json, `"nested":${nest}`)), headers: [], note: `${why}; nested ${levels} levels deep` };
  });
  const count = fc.oneof({ arbitrary: fc.constant(10_000), weight: 3 }, { arbitrary: fc.constant(100_000), weight: 1 });
  const hugeArray = fc.tuple(text, fc.constantFrom('1', '"x"', '[]', '{}', 'null'), count).map(([{ json, why }, item, n]): Body => ({
    bytes: Buffer.from(appendMember(json, `"${arrayField}":[${Array(n).fill(item).join(',')}]`)),
    headers: [],
    note: `${why}; ${arrayField} with ${n} items ${item}`,
  }));
  const oversized = fc.tuple(text, fc.constantFrom(1, 1.5, 4)).map(([{ json, why }, times]): Body => {
    const pad = 'a'.repeat(Math.max(1, Math.ceil(limit * times) + 1 - json.length));
    return { bytes: Buffer.from(appendMember(json, `"pad":"${pad}"`)), headers: [], oversized: true, note: `${why}; over the limit (${times} × limit)` };
  });
  const encoded = fc.tuple(plain, fc.constantFrom('gzip', 'deflate', 'br', 'gzip, gzip', 'x-unknown')).map(([body, encoding]): Body => ({
    ...body,
    bytes: compress[encoding]?.(body.bytes) ?? body.bytes,
    headers: [['content-encoding', encoding]],
    note: `${body.note}; Content-Encoding ${encoding}`,
  }));
  const misencoded = fc.constantFrom<Body>(
    { bytes: Buffer.from('not gzip at all'), headers: [['content-encoding', 'gzip']], note: 'Content-Encoding gzip on bytes that are not gzip' },
    { bytes: gzipSync(Buffer.from('{"prompt":1}')).subarray(0, 12), headers: [['content-encoding', 'gzip']], note: 'truncated gzip' },
    { bytes: Buffer.from('x'), headers: [['content-encoding', 'deflate']], note: 'Content-Encoding deflate on junk' },
    { bytes: Buffer.from('x'), headers: [['content-encoding', 'br']], note: 'Content-Encoding br on junk' },
  );
  const bomb = fc.constant(0).map((): Body => ({ bytes: gzipBomb(), headers: [['content-encoding', 'gzip']], note: 'gzip bomb: 64 KiB inflating to 64 MiB' }));
  const chunked = fc.tuple(plain, fc.integer({ min: 2, max: 50 })).map(([body, chunks]): Body => ({ ...body, chunks, note: `${body.note}; chunked in ${chunks} pieces` }));
  const notJson = fc
    .oneof(fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)), fc.constantFrom(...NOT_JSON_OBJECTS).map((t) => Buffer.from(t)), badUtf8)
    .map((bytes): Body => ({ bytes, headers: [], note: 'not a JSON object' }));

  return fc.oneof(
    { arbitrary: plain, weight: 70 },
    { arbitrary: notUtf8, weight: 10 },
    { arbitrary: pollution, weight: 10 },
    { arbitrary: duplicates, weight: 5 },
    { arbitrary: nested, weight: 5 },
    { arbitrary: hugeArray, weight: 5 },
    { arbitrary: oversized, weight: 5 },
    { arbitrary: encoded, weight: 5 },
    { arbitrary: misencoded, weight: 5 },
    { arbitrary: bomb, weight: 1 },
    { arbitrary: chunked, weight: 5 },
    { arbitrary: notJson, weight: 15 },
  );
}

/** A path spelled differently: the router must treat it as the same route or as none, never as a way around the token. */
export function pathVariant(path: string): Arbitrary<{ path: string; note: string }> {
  const [base, query] = path.split(/\?(.*)/s);
  const withQuery = (p: string) => (query === undefined ? p : `${p}?${query}`);
  return fc.oneof(
    { arbitrary: fc.constant({ path, note: '' }), weight: 30 },
    {
      arbitrary: fc.constantFrom(
        { path: withQuery(`${base}/`), note: 'trailing slash' },
        { path: withQuery(base.toUpperCase()), note: 'upper case' },
        { path: withQuery(base.replace('/', '//')), note: 'double slash' },
        { path: withQuery(base.replace(/\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`)), note: '%-encoded letter' },
        { path: withQuery(base.replace(/\/([^/]+)$/, '/./$1')), note: 'dot segment' },
        { path: withQuery(base.replace(/\/([^/]+)$/, '/x/../$1')), note: 'dot-dot segment' },
        { path: withQuery(`${base};jsessionid=1`), note: 'matrix parameter' },
        { path: withQuery(`${base}%00`), note: 'NUL' },
        { path: withQuery(`${base}#fragment`), note: 'fragment' },
        { path: withQuery(`http://evil.example${base}`), note: 'absolute-form URL' },
      ),
      weight: 2,
    },
  );
}
