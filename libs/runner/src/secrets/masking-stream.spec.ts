import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { RunnerSecrets } from './runner-secrets';
import { StreamingReplacer } from './streaming-replacer';

/** Feeds `chunks` through the secrets' masking stream and joins what comes out. */
async function maskedByStream(secrets: RunnerSecrets, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), secrets.maskingStream(), async function* (source) {
    for await (const chunk of source) out.push(chunk as Buffer);
  });
  return Buffer.concat(out);
}

/** `content` cut at the given offsets (sorted, deduplicated, possibly giving empty pieces). */
function cut(content: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (content.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, content.length]) {
    chunks.push(content.subarray(from, point));
    from = point;
  }
  return chunks;
}

// A small alphabet, so that secrets overlap each other, repeat, and even occur inside the
// "[masked:NAME]" text that replaces another one (which `mask`, replacing in turn, then masks too).
const ALPHABET = ['a', 'b', 's', 'k', '[', ':', 'm', 'd', 'e', 'é'];
const text = (min: number, max: number) =>
  fc.array(fc.constantFrom(...ALPHABET), { minLength: min, maxLength: max }).map((cs) => cs.join(''));

describe('RunnerSecrets.maskingStream', () => {
  it('masks exactly as mask does, however the content is cut into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('A', 'KEY', 'TOKEN', 'B2'), text(1, 9), { maxKeys: 4 }),
        fc.array(fc.oneof(text(0, 30), fc.constantFrom('masked', '[masked:A]', 'kssk')), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        async (values, pieces, offsets) => {
          const secrets = new RunnerSecrets(values, []);
          const content = Buffer.from(pieces.join(''));
          // Secret values are built into the content, so that matches are frequent.
          const withSecrets = Buffer.concat([content, ...Object.values(values).map((v) => Buffer.from(`${v}x${v}`))]);
          expect(await maskedByStream(secrets, cut(withSecrets, offsets))).toEqual(secrets.mask(withSecrets));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('masks a secret split across chunks, one byte at a time', async () => {
    const secrets = new RunnerSecrets({ CANARY: 'canary-value', SHORT: 'abc' }, []);
    const content = Buffer.from('x canary-value y canary-valuecanary-value abc z');
    const bytes = [...content].map((byte) => Buffer.from([byte]));
    expect((await maskedByStream(secrets, bytes)).toString()).toBe('x [masked:CANARY] y [masked:CANARY][masked:CANARY] abc z');
  });

  it('passes content through untouched when the runner has no secret long enough to mask', async () => {
    const secrets = new RunnerSecrets({ PIN: '123' }, []);
    expect((await maskedByStream(secrets, [Buffer.from('pin 123'), Buffer.from('4')])).toString()).toBe('pin 1234');
  });

  it('holds back less than the secret, whatever the size of what flows through', () => {
    const replacer = new StreamingReplacer(Buffer.from('secret-value'), Buffer.from('[masked:S]'));
    let out = 0;
    const chunk = Buffer.alloc(64 * 1024, 'secret-valu');
    for (let i = 0; i < 1000; i++) {
      out += replacer.push(chunk).length;
      expect(64 * 1024 * (i + 1) - out).toBeLessThan('secret-value'.length);
    }
    expect(out + replacer.end().length).toBe(64 * 1024 * 1000);
  });

  it('holds back only what may be the start of a secret: a line printed live is passed on whole', () => {
    const replacer = new StreamingReplacer(Buffer.from('secret-value'), Buffer.from('[masked:S]'));
    expect(replacer.push(Buffer.from('a line of output\n')).toString()).toBe('a line of output\n');
    expect(replacer.push(Buffer.from('then secr')).toString()).toBe('then ');
    expect(replacer.push(Buffer.from('et-value, and s')).toString()).toBe('[masked:S], and ');
    expect(replacer.push(Buffer.from('o on\n')).toString()).toBe('so on\n');
    expect(replacer.end().length).toBe(0);
  });
});
