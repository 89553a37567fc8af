import fc from 'fast-check';
import { IMAGE_REFERENCE_RULE, MAX_IMAGE_REFERENCE_LENGTH, parseImageReference, type ImageReference } from './image-reference';
import { CreateSessionRequestSchema, ImageRefSchema } from './session.schemas';
import { SessionTemplatesSchema } from './session-templates';
import { CreateOrchestrationRequestSchema } from '../orchestrations/orchestration.schemas';

const HEX64 = 'f'.repeat(64);
const DIGEST = `sha256:${HEX64}`;

function accepted(input: string): ImageReference {
  const parsed = parseImageReference(input);
  if (!parsed.ok) throw new Error(`refused ${input}: ${parsed.message}`);
  return parsed.reference;
}

function problemOf(input: string): string {
  const parsed = parseImageReference(input);
  if (parsed.ok) throw new Error(`accepted ${input} as ${parsed.reference.familiar}`);
  return parsed.problem;
}

describe('parseImageReference', () => {
  describe('the cases of issue 9', () => {
    it.each([
      ['hub/../busybox', "has an empty or '..' path component"],
      ['hub//x', "has an empty or '..' path component"],
      ['hub/x/', "has an empty or '..' path component"],
      ['HUB/x', 'has upper-case letters in its repository name (Docker requires lower case)'],
      ['hub/X', 'has upper-case letters in its repository name (Docker requires lower case)'],
      ['hub/x:', "has an empty tag after ':'"],
      ['hub/x@sha256:short', "has an invalid digest after '@' (an algorithm, ':' and hex digits, such as sha256:<64 hex digits>)"],
      [`hub/x@sha256:${'a'.repeat(40)}`, 'has a sha256 digest of 40 hex digits instead of 64'],
      ['a'.repeat(300), 'has a repository path longer than 255 characters'],
      [' hub/x', 'contains whitespace or control characters'],
      ['hub/x ', 'contains whitespace or control characters'],
      ['hub/x\n', 'contains whitespace or control characters'],
      ['-x', "has an invalid path component '-x' (lower-case letters and digits, separated by '.', '_', '__' or '-')"],
      ['x/-y', "has an invalid path component '-y' (lower-case letters and digits, separated by '.', '_', '__' or '-')"],
      ['', 'is empty'],
      ['hub/x;rm -rf /', 'contains whitespace or control characters'],
      ['hub/x;id', "contains ';', which no image reference may contain"],
      ['hub%2f..%2fbusybox', "contains '%', which no image reference may contain"],
      ['hub/x?y', "contains '?', which no image reference may contain"],
      ['../../etc', "has an invalid registry host '..'"],
      ['hub/x:.tag', "has an invalid tag (at most 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')"],
      ['hub/x@a@b', "has more than one '@'"],
      [HEX64.replace(/f/g, 'a'), 'is a 64-character hexadecimal image id, not a name'],
      ['x'.repeat(MAX_IMAGE_REFERENCE_LENGTH + 1), `is longer than ${MAX_IMAGE_REFERENCE_LENGTH} characters`],
    ])('refuses %j: %s', (input, problem) => {
      expect(problemOf(input)).toBe(problem);
    });

    it('names the rule and the reference in its message, escaped and cut when long', () => {
      expect(parseImageReference('hub/../busybox')).toMatchObject({
        message: "must be a Docker image reference (name[:tag][@digest]); 'hub/../busybox' has an empty or '..' path component",
      });
      const long = parseImageReference(`${'a'.repeat(300)}\u0007`);
      expect(long.ok).toBe(false);
      if (!long.ok) expect(long.message).toBe(`${IMAGE_REFERENCE_RULE}; '${'a'.repeat(80)}…' (301 characters) contains whitespace or control characters`);
      const control = parseImageReference('hub/\u001bx');
      if (!control.ok) expect(control.message).toContain("'hub/\\u001bx'");
    });

    it.each([
      ['localhost:5000/x:1', { domain: 'localhost:5000', path: 'x', tag: '1', digest: null, familiar: 'localhost:5000/x:1' }],
      [
        `ghcr.io/acme/agent:v1@${DIGEST}`,
        { domain: 'ghcr.io', path: 'acme/agent', tag: 'v1', digest: DIGEST, familiar: `ghcr.io/acme/agent:v1@${DIGEST}` },
      ],
      ['hub/test-agent', { domain: 'docker.io', path: 'hub/test-agent', tag: 'latest', familiar: 'hub/test-agent:latest' }],
      ['hub/test-agent:latest', { familiar: 'hub/test-agent:latest', canonical: 'docker.io/hub/test-agent:latest' }],
      ['busybox', { path: 'library/busybox', familiar: 'busybox:latest', canonical: 'docker.io/library/busybox:latest' }],
      ['docker.io/library/busybox:1.36', { familiar: 'busybox:1.36' }],
      ['index.docker.io/hub/x', { domain: 'docker.io', familiar: 'hub/x:latest' }],
      ['docker.io/hub/x', { familiar: 'hub/x:latest' }],
      [`hub/x@${DIGEST}`, { tag: null, digest: DIGEST, familiar: `hub/x@${DIGEST}` }],
      ['localhost/x', { domain: 'localhost', familiar: 'localhost/x:latest' }],
      ['[::1]:5000/repo:tag', { domain: '[::1]:5000', familiar: '[::1]:5000/repo:tag' }],
      ['lowercase:Uppercase', { tag: 'Uppercase', familiar: 'lowercase:Uppercase' }],
      // Docker's FamiliarString says `a.b/c`, which would read back as the host a.b.
      ['docker.io/a.b/c', { domain: 'docker.io', path: 'a.b/c', familiar: 'docker.io/a.b/c:latest' }],
    ])('accepts %j in its familiar form with the default tag', (input, expected) => {
      expect(accepted(input)).toMatchObject(expected);
    });
  });

  // Docker's own test vectors (github.com/distribution/reference, normalize_test.go and
  // reference_test.go), through ParseNormalizedNamed as Hub parses them.
  describe("Docker's test vectors", () => {
    const validRepoNames = [
      'docker/docker',
      'library/debian',
      'debian',
      'localhost/library/debian',
      'localhost/debian',
      'docker.io/docker/docker',
      'docker.io/library/debian',
      'docker.io/debian',
      'index.docker.io/docker/docker',
      'index.docker.io/library/debian',
      'index.docker.io/debian',
      '127.0.0.1:5000/docker/docker',
      '127.0.0.1:5000/library/debian',
      '127.0.0.1:5000/debian',
      '192.168.0.1',
      '192.168.0.1:80',
      '192.168.0.1:8/debian',
      '192.168.0.2:25000/debian',
      'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
      '[fc00::1]:5000/docker',
      '[fc00::1]:5000/docker/docker',
      '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
      'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      // TestValidateRemoteName
      'docker-rules/docker',
      'docker---rules/docker',
      'doc/docker',
      'd/docker',
      'jess/t',
      'dock__er/docker',
      // TestReferenceParse
      'test_com',
      'test.com:tag',
      'test.com:5000',
      'test.com/repo:tag',
      'test:5000/repo',
      'test:5000/repo:tag',
      `test:5000/repo@${DIGEST}`,
      `test:5000/repo:tag@${DIGEST}`,
      'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
      'b.gcr.io/test.example.com/my-app:test.example.com',
      'xn--n3h.com/myimage:xn--n3h.com',
      `xn--7o8h.com/myimage:xn--7o8h.com@${DIGEST}`,
      'foo_bar.com:8080',
      'foo/foo_bar.com:8080',
      '192.168.1.1:5000/repo:5050',
      '[2001:db8::1]/repo',
      '[2001:db8:1:2:3:4:5:6]/repo:tag',
      `[2001:db8::1]:5000/repo:tag@${DIGEST}`,
      '[2001:db8::]:5000/repo',
      '[::1]:5000/repo',
      `example.com/${'a'.repeat(255)}:tag`,
      `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
      'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
    ];
    it.each(validRepoNames)('accepts %j', (input) => {
      expect(parseImageReference(input).ok).toBe(true);
    });

    const invalidRepoNames = [
      'https://github.com/docker/docker',
      'docker/Docker',
      '-docker',
      '-docker/docker',
      '-docker.io/docker/docker',
      'docker///docker',
      'docker.io/docker/Docker',
      'docker.io/docker///docker',
      '[fc00::1]',
      '[fc00::1]:5000',
      'fc00::1:5000/debian',
      '[fe80::1%eth0]:5000/debian',
      '[2001:db8:3:4::192.0.2.33]:5000/debian',
      '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      // TestValidateRemoteName
      'docker-/docker',
      '-docker-/docker',
      '____/____',
      '_docker/_docker',
      'dock..er/docker',
      'dock_.er/docker',
      'dock-.er/docker',
      'docker/',
      `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`,
      // TestReferenceParse
      ':justtag',
      `@${DIGEST}`,
      'repo@sha256:ffffffffffffffffffffffffffffffffff',
      `validname@invaliddigest:${HEX64}`,
      'Uppercase:tag',
      'test:5000/Uppercase/lowercase:tag',
      `domain/${'a'.repeat(256)}:tag`,
      'aa/asdf$$^/aa',
      '[2001:db8::1]',
      '[2001:db8::1]:5000',
      '[2001:db8::1]:tag',
      '[fe80::1%@invalidzone]:5000/repo',
      // TestInvalidReferenceComponents
      '-foo',
    ];
    it.each(invalidRepoNames)('refuses %j', (input) => {
      expect(parseImageReference(input).ok).toBe(false);
    });

    // TestParseRepositoryInfo: each spelling gives the same familiar and full names.
    it.each([
      [['localhost/fooo'], 'localhost/fooo', 'localhost/fooo'],
      [['fooo/bar', 'docker.io/fooo/bar', 'index.docker.io/fooo/bar'], 'fooo/bar', 'docker.io/fooo/bar'],
      [['ubuntu', 'docker.io/library/ubuntu', 'library/ubuntu'], 'ubuntu', 'docker.io/library/ubuntu'],
      [['nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu'], 'nonlibrary/ubuntu', 'docker.io/nonlibrary/ubuntu'],
      [['other/library'], 'other/library', 'docker.io/other/library'],
      [['127.0.0.1:8000/private/moonbase'], '127.0.0.1:8000/private/moonbase', '127.0.0.1:8000/private/moonbase'],
      [['example.com:8000/privatebasee'], 'example.com:8000/privatebasee', 'example.com:8000/privatebasee'],
      [['ubuntu-12.04-base', 'index.docker.io/library/ubuntu-12.04-base'], 'ubuntu-12.04-base', 'docker.io/library/ubuntu-12.04-base'],
      [['foo', 'docker.io/foo'], 'foo', 'docker.io/library/foo'],
      [['library/foo/bar', 'docker.io/library/foo/bar'], 'library/foo/bar', 'docker.io/library/foo/bar'],
      [['store/foo/bar'], 'store/foo/bar', 'docker.io/store/foo/bar'],
    ])('reads %j as %s (%s)', (spellings, familiarName, fullName) => {
      for (const spelling of spellings) {
        expect({ spelling, ...accepted(spelling) }).toMatchObject({
          spelling,
          familiar: `${familiarName}:latest`,
          canonical: `${fullName}:latest`,
        });
      }
    });

    it('keeps both tag and digest, as FamiliarString does', () => {
      const ref = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
      expect(accepted(ref)).toMatchObject({ familiar: ref, canonical: `docker.io/library/${ref}` });
    });

    it('is stricter than Docker where Docker reads a capitalised first component as a registry host', () => {
      // Docker: `Docker/docker` is the repository `docker` on a host named `Docker` (a FIXME in its tests).
      for (const input of ['Docker/docker', 'DOCKER/docker', 'LOCALDOMAIN/debian', 'Foo/bar']) {
        expect({ input, problem: problemOf(input) }).toEqual({
          input,
          problem: 'has upper-case letters in its repository name (Docker requires lower case)',
        });
      }
      expect(problemOf('foo_bar.com/x')).toBe("has an invalid registry host 'foo_bar.com'");
    });
  });

  describe('as a property', () => {
    const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((c) => c.length <= 30);
    const reference = fc
      .tuple(
        fc.constantFrom('', 'docker.io/', 'index.docker.io/', 'localhost/', 'localhost:5000/', 'ghcr.io/', '127.0.0.1:8/', '[::1]:5/'),
        fc.array(component, { minLength: 1, maxLength: 4 }),
        fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/), { nil: undefined }),
        fc.option(fc.constantFrom(DIGEST, `sha512:${'0'.repeat(128)}`), { nil: undefined }),
      )
      // A first component with a '.' is a registry host, and one with a '_' no valid host (Hub refuses it).
      .filter(([host, path]) => host !== '' || path.length === 1 || !path[0]?.includes('.'))
      .map(([host, path, tag, digest]) => `${host}${path.join('/')}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`)
      .filter((s) => !/^[a-f0-9]{64}$/.test(s));

    it('accepts what the grammar generates, and its familiar form reads back as itself', () => {
      fc.assert(
        fc.property(reference, (input) => {
          const first = accepted(input);
          const again = accepted(first.familiar);
          expect(again.familiar).toBe(first.familiar);
          expect(again.canonical).toBe(first.canonical);
          expect(accepted(first.canonical).familiar).toBe(first.familiar);
          expect(first.familiar).toMatch(/[:@]/);
        }),
      );
    });

    it('never throws, and what it accepts has no empty, "." or ".." path component and nothing outside the grammar', () => {
      const noise = fc.string({ unit: fc.constantFrom(...'aZ09-_.:/@[]+ %\u0000é'.split('')), maxLength: 60 });
      fc.assert(
        fc.property(fc.oneof(noise, reference.map((r) => r.replace(/[a-z]/, '.'))), (input) => {
          const parsed = parseImageReference(input);
          if (!parsed.ok) return;
          expect(parsed.reference.familiar).toMatch(/^[A-Za-z0-9._\-/:@[\]]+$/);
          const name = parsed.reference.path;
          expect(name.split('/').every((c) => c !== '' && c !== '.' && c !== '..')).toBe(true);
        }),
      );
    });

    it('takes linear time: hostile inputs of the longest length parse at once', () => {
      const fill = (unit: string, tail: string) => unit.repeat(Math.floor((MAX_IMAGE_REFERENCE_LENGTH - tail.length) / unit.length)) + tail;
      const inputs = ['a', 'a-', 'a--', 'a__', 'a.', 'a/', 'A-', 'a:', 'a1-', 'a-a.', 'aa.a-a/', '[', 'a+', '-'].flatMap((unit) =>
        ['', '!', '/', ':', '@', '@sha256:!', '/A', `:${'a'.repeat(129)}`].flatMap((tail) => [fill(unit, tail), `x.io/${fill(unit, tail)}`.slice(0, MAX_IMAGE_REFERENCE_LENGTH)]),
      );
      const started = Date.now();
      for (const input of inputs) parseImageReference(input);
      // About 0.1 ms each; a backtracking grammar (such as `[-]*` for the separator) takes seconds on one.
      expect(Date.now() - started).toBeLessThan(2_000);
    });
  });
});

describe('ImageRefSchema', () => {
  it('answers the familiar form, so every entrance stores the same spelling', () => {
    expect(ImageRefSchema.parse('hub/test-agent')).toBe('hub/test-agent:latest');
    expect(ImageRefSchema.parse('docker.io/hub/test-agent:latest')).toBe('hub/test-agent:latest');
    expect(ImageRefSchema.parse('docker.io/library/busybox')).toBe('busybox:latest');
    expect(CreateSessionRequestSchema.parse({ prompt: 'p', image: 'hub/x' }).image).toBe('hub/x:latest');
    expect(
      CreateOrchestrationRequestSchema.parse({ name: 'o', sessions: [{ name: 'a', prompt: 'p', image: 'index.docker.io/hub/x:1' }] })
        .sessions[0]?.image,
    ).toBe('hub/x:1');
    expect(SessionTemplatesSchema.parse({ review: { image: 'hub/claude-code' } })['review']?.image).toBe('hub/claude-code:latest');
  });

  it('refuses a bad reference with one issue naming the rule', () => {
    const result = CreateSessionRequestSchema.safeParse({ prompt: 'p', image: 'hub/../busybox' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['image'],
        message: "must be a Docker image reference (name[:tag][@digest]); 'hub/../busybox' has an empty or '..' path component",
      }),
    ]);
    expect(ImageRefSchema.safeParse('x'.repeat(MAX_IMAGE_REFERENCE_LENGTH + 1)).error?.issues).toHaveLength(1);
    expect(ImageRefSchema.safeParse(42).success).toBe(false);
  });
});
