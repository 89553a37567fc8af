import fc, { type Arbitrary } from 'fast-check';

/** Byte sequences that are not UTF-8: a lone 0xff, overlong '/', a UTF-16 surrogate, past U+10FFFF, a cut sequence... */
export const BAD_UTF8: readonly Buffer[] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xc3],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
].map((bytes) => Buffer.from(bytes));

/** encodeURIComponent, with lone surrogates (which it refuses) replaced by U+FFFD first. */
export const encode = (text: string) => encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

/** A path node:http will send: what it refuses (controls, space, beyond U+00FF) %-encoded; 0x80-0xFF stay raw bytes. */
export const sendable = (path: string) => path.replace(/[^\u0021-\u00ff]+/gu, encode);

export const badUtf8 = fc
  .array(fc.constantFrom(...BAD_UTF8), { minLength: 1, maxLength: 4 })
  .map((parts) => Buffer.concat(parts));

/** The same, %-encoded, for paths and queries: `%ff%c0%af`. */
export const badUtf8Encoded = badUtf8.map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));

const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'a\u0000b',
  '../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '%2e%2e%2f',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\u202eevil',
  '\ufeffbom',
  '\ud800',
  '\udfff',
  'a'.repeat(10_000),
  '${jndi:ldap://x/a}',
  "'; DROP TABLE sessions; --",
  '<script>alert(1)</script>',
  'NaN',
  'null',
  'undefined',
  '-1',
  '1e309',
  'true',
  '{"a":1}',
  '\r\nx-injected: 1',
  'ＡＢＣ',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'İı',
  'e\u0301',
  '👩‍👩‍👧‍👦',
];

export const nastyString: Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 }, // lone surrogates included
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 2 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
);

export const nastyNumber: Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 0.5, 1e308, -1e308, 2 ** 53 + 2, 2 ** 31, 2 ** 32, 7 * 24 * 3600 + 1, Number.MIN_VALUE),
);

const PROTO_OBJECTS = [
  '{"__proto__":{"polluted":true,"prompt":"x"}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"__proto__":null}',
  '{"toString":"x","valueOf":1,"hasOwnProperty":null}',
].map((json) => JSON.parse(json) as Record<string, unknown>);

/** Anything JSON can carry, biased to what breaks parsers and validators. */
export const hostileValue: Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  nastyNumber,
  nastyString,
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(nastyString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
  fc.constantFrom(...PROTO_OBJECTS),
);

export type JsonKind = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

export const kindOf = (value: unknown): JsonKind =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : (typeof value as 'string' | 'number' | 'boolean' | 'object');

/** A hostile value of any JSON type but `kind` (and never absent). */
export const notA = (...kinds: JsonKind[]): Arbitrary<unknown> => hostileValue.filter((value) => !kinds.includes(kindOf(value)));

/** A change that makes a request invalid, and says how. */
export interface Breaker {
  why: string;
  apply(target: Record<string, unknown>): void;
}

export const setTo = (key: string, value: Arbitrary<unknown>, why: string): Arbitrary<Breaker> =>
  value.map((v) => ({ why: `${key} ${why}: ${JSON.stringify(v)?.slice(0, 60)}`, apply: (o) => void (o[key] = v) }));

export const remove = (...keys: string[]): Arbitrary<Breaker> =>
  fc.constant({ why: `${keys.join(' and ')} missing`, apply: (o) => keys.forEach((key) => delete o[key]) });

/** A key no schema knows (strict schemas refuse it). */
export const unknownKey: Arbitrary<Breaker> = fc
  .tuple(fc.constantFrom('id', 'status', 'sessionId', 'extra', 'createdAt', 'attempt', 'Prompt', 'prompt ', 'ÿ'), hostileValue)
  .map(([key, value]) => ({ why: `unknown field ${key}`, apply: (o) => void (o[key] = value) }));

/**
 * A valid-looking object broken by construction: optional extra breakage first, then one breaker
 * that alone makes it invalid (applied last, so nothing can undo it).
 */
export function broken(
  valid: Arbitrary<Record<string, unknown>>,
  breakers: Arbitrary<Breaker>[],
): Arbitrary<{ value: Record<string, unknown>; why: string }> {
  const breaker = fc.oneof(...breakers);
  return fc.tuple(valid, fc.array(breaker, { maxLength: 2 }), breaker).map(([value, extra, last]) => {
    const copy = structuredClone(value);
    for (const b of [...extra, last]) b.apply(copy);
    return { value: copy, why: [last, ...extra].map((b) => b.why).join('; ') };
  });
}

/** Non-existent but well-formed ids: any UUID version, upper case, nil and max. */
export const unknownUuid: Arbitrary<string> = fc.oneof(
  { arbitrary: fc.uuid(), weight: 6 },
  { arbitrary: fc.uuid().map((id) => id.toUpperCase()), weight: 1 },
  { arbitrary: fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'), weight: 1 },
);

/** What an id in a path might be instead of a UUID, already %-encoded where needed (or raw bytes 0x80-0xff). */
export const malformedIdInPath: Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '%20',
    'null',
    'undefined',
    '0',
    '-1',
    '1e3',
    '..',
    '.',
    '%2e%2e',
    '%2F',
    '%00',
    '%',
    '%zz',
    '%ff',
    '%c0%ae',
    '__proto__',
    'constructor',
    '{00000000-0000-4000-8000-000000000000}',
    '00000000000040008000000000000000',
    '00000000-0000-4000-8000-00000000000g',
    '00000000-0000-4000-8000-0000000000000',
    '00000000-0000-4000-8000-000000000000%00',
    '%D0%B0%D0%B0%D0%B0%D0%B0%D0%B0%D0%B0%D0%B0%D0%B0-0000-4000-8000-000000000000', // Cyrillic а
    '%F0%9F%92%A9',
    '%E2%80%AE',
    "'%20OR%20'1'='1",
    'x'.repeat(10_000),
    '\u00e9\u00ff', // raw bytes 0xe9 0xff in the request line
  ),
  fc.uuid().map((id) => `${id}x`),
  fc.uuid().map((id) => id.replace(/-/g, '')),
  fc.uuid().map((id) => encode(` ${id}`)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(encode),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).map(encode),
  badUtf8Encoded,
);
