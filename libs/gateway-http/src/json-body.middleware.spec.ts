import { HubError } from '@hub/contracts';
import { HttpProblem } from './http-problem.error';
import { nulPathIn, translateBodyParserError } from './json-body.middleware';

describe('nulPathIn', () => {
  it('names the first string or key holding U+0000, as a field path', () => {
    expect(nulPathIn({ prompt: 'ok', sessions: [{ name: 'a' }, { prompt: 'x\u0000' }] })).toBe('sessions.1.prompt');
    expect(nulPathIn({ ['a\u0000']: 1 })).toBe('a\u0000');
    expect(nulPathIn('\u0000')).toBe('(body)');
    expect(nulPathIn({ prompt: 'no nul', n: 1, none: null })).toBeUndefined();
    expect(nulPathIn(undefined)).toBeUndefined();
  });

  it('walks bodies nested a hundred thousand levels deep without a stack overflow', () => {
    const depth = 100_000;
    const deep = JSON.parse(`${'{"a":'.repeat(depth)}"\\u0000"${'}'.repeat(depth)}`);
    expect(nulPathIn(deep)).toBe(Array(depth).fill('a').join('.'));
    expect(nulPathIn(JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`))).toBeUndefined();
  });
});

describe('translateBodyParserError', () => {
  it('makes a 400 of an error decoding the Content-Encoding, which body-parser leaves without a type', () => {
    const zlib = Object.assign(new Error('incorrect header check'), { status: 400, code: 'Z_DATA_ERROR' });
    const translated = translateBodyParserError(zlib);
    expect(translated).toBeInstanceOf(HubError);
    expect((translated as HubError).message).toBe('cannot read the request body: incorrect header check (it is not encoded as its Content-Encoding says)');
  });

  it('passes on what is not body-parser’s: the gateway’s own answers, and server errors', () => {
    const problem = new HttpProblem(415, 'unsupported_media_type', 'no');
    expect(translateBodyParserError(problem)).toBe(problem);
    const broken = Object.assign(new Error('boom'), { status: 500, type: 'x' });
    expect(translateBodyParserError(broken)).toBe(broken);
  });
});
