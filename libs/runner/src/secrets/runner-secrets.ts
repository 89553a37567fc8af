import { readFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { imageMatches } from '@hub/contracts';
import { StreamingReplacer } from './streaming-replacer';

export interface SecretGrant {
  /** Image pattern (`*` matches anything), e.g. `hub/claude-code*`. */
  imagePattern: string;
  names: string[];
}

const MIN_MASKED_LENGTH = 4;

/** Masks a stream of chunks: what `push` returns, then what `end` returns, is `mask` of all the chunks. */
export interface ChunkMasker {
  /** The bytes now decided (some of a chunk's may be held back until the next shows whether they start a secret). */
  push(chunk: Buffer): Buffer;
  /** What was held back. */
  end(): Buffer;
}

/**
 * The secrets a runner holds (an Anthropic key, a GitHub token, …): given only to the containers of
 * images granted them, never stored or published by Hub, and masked wherever Hub captures what a
 * container wrote (its log, its output files) before that is stored.
 */
export class RunnerSecrets {
  private readonly values: Map<string, string>;

  constructor(
    values: Record<string, string>,
    private readonly grants: SecretGrant[],
  ) {
    this.values = new Map(Object.entries(values).filter(([, value]) => value !== ''));
  }

  /**
   * Secrets from the environment (`HUB_SECRET_<NAME>=value`) and from a file of `NAME=value`
   * lines (blank lines and `#` comments ignored); the environment wins.
   */
  static load(env: NodeJS.ProcessEnv, file: string | undefined, grants: SecretGrant[]): RunnerSecrets {
    const values: Record<string, string> = file ? parseSecretsFile(readFileSync(file, 'utf8'), file) : {};
    for (const [key, value] of Object.entries(env)) {
      if (key.startsWith('HUB_SECRET_') && value) values[key.slice('HUB_SECRET_'.length)] = value;
    }
    return new RunnerSecrets(values, grants);
  }

  get names(): string[] {
    return [...this.values.keys()];
  }

  /** A secret's value, for the runner's own use (fetching a repository); never given to a container by this. */
  value(name: string): string | undefined {
    return this.values.get(name);
  }

  /** The environment a container of `image` receives: the secrets granted to it that this runner has. */
  forImage(image: string): Record<string, string> {
    const granted = this.grants.filter((g) => imageMatches(g.imagePattern, image)).flatMap((g) => g.names);
    return Object.fromEntries(granted.filter((name) => this.values.has(name)).map((name) => [name, this.values.get(name)!]));
  }

  /** `content` with every secret value replaced by `[masked:NAME]`. */
  mask(content: Buffer): Buffer {
    let masked = content;
    for (const [name, value] of this.masked()) {
      masked = replaceAll(masked, Buffer.from(value), Buffer.from(`[masked:${name}]`));
    }
    return masked;
  }

  /**
   * `mask` as a stream, for what is too large to hold (a log, an output file): the bytes that come
   * out are exactly `mask` of all the bytes that went in, however they were cut into chunks. Each
   * secret is replaced in turn, as `mask` does, each holding back at most its length − 1 bytes, so
   * the memory used is a chunk plus the secrets' lengths, whatever the stream's size.
   */
  maskingStream(): Transform {
    const masker = this.chunkMasker();
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const data = masker.push(chunk);
        done(null, data.length ? data : undefined);
      },
      flush(done) {
        const data = masker.end();
        done(null, data.length ? data : undefined);
      },
    });
  }

  /**
   * `maskingStream` one chunk at a time, called directly: for a stream of chunks that must stay apart
   * from another's (a container's stdout and stderr, each masked on its own, in the order read).
   */
  chunkMasker(): ChunkMasker {
    const stages = this.masked().map(([name, value]) => new StreamingReplacer(Buffer.from(value), Buffer.from(`[masked:${name}]`)));
    return {
      push(chunk) {
        let data = chunk;
        for (const stage of stages) data = stage.push(data);
        return data;
      },
      end() {
        let data: Buffer = Buffer.alloc(0);
        for (const stage of stages) data = Buffer.concat([stage.push(data), stage.end()]);
        return data;
      },
    };
  }

  maskText(text: string): string {
    return this.mask(Buffer.from(text)).toString('utf8');
  }

  /** The secrets that are masked, in the order `mask` replaces them (too short a value is not). */
  private masked(): [string, string][] {
    return [...this.values].filter(([, value]) => value.length >= MIN_MASKED_LENGTH);
  }
}

/** `pattern=NAME,NAME;pattern=NAME`, e.g. `hub/claude-code*=ANTHROPIC_API_KEY,GITHUB_TOKEN`. */
export function parseSecretGrants(spec: string): SecretGrant[] {
  return spec
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [imagePattern, names] = part.split('=');
      if (!imagePattern || !names) throw new Error(`secret grant "${part}" must look like image-pattern=NAME,NAME`);
      return { imagePattern: imagePattern.trim(), names: names.split(',').map((n) => n.trim()).filter(Boolean) };
    });
}

function parseSecretsFile(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  text.split('\n').forEach((line, index) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`${file}:${index + 1}: expected NAME=value`);
    values[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  });
  return values;
}


function replaceAll(haystack: Buffer, needle: Buffer, replacement: Buffer): Buffer {
  let index = haystack.indexOf(needle);
  if (index < 0) return haystack;
  const parts: Buffer[] = [];
  let from = 0;
  while (index >= 0) {
    parts.push(haystack.subarray(from, index), replacement);
    from = index + needle.length;
    index = haystack.indexOf(needle, from);
  }
  parts.push(haystack.subarray(from));
  return Buffer.concat(parts);
}
