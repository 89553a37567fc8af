/**
 * Docker image references, read the way Docker reads them.
 *
 * A port of github.com/distribution/reference, the package Docker itself parses references with
 * (commit 0965666a6ade2e06035fe352e38344be1e68951a): the expressions of regexp.go, built up the
 * same way, `Parse` (reference.go), and `ParseNormalizedNamed`, `splitDockerDomain`,
 * `FamiliarString` and `TagNameOnly` (normalize.go). Its grammar:
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain '/'] remote-name
 *   domain           := host [':' port-number]
 *   host             := domain-name | IPv4address | \[ IPv6address \]
 *   domain-name      := domain-component ['.' domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   remote-name      := path-component ['/' path-component]*
 *   path-component   := alpha-numeric [separator alpha-numeric]*
 *   alpha-numeric    := /[a-z0-9]+/
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" hex   (go-digest: sha256, sha384, sha512; lower-case hex of their size)
 *
 * Not an npm package: @swimlane/docker-reference ports an older form of this grammar whose
 * separator (`[-]*`, which may be empty) makes JavaScript's backtracking regexps exponential (17
 * characters took 30 s); @codefresh-io/docker-reference needs the native re2 module; and
 * docker-parse-image is a loose regex that accepts `hub/../busybox`. Go's regexps are linear,
 * JavaScript's backtrack: the current separator (`[-]+`) leaves every match one way to split, and
 * no input longer than MAX_IMAGE_REFERENCE_LENGTH reaches a regexp at all.
 *
 * Stricter than Docker in three places, never looser:
 * - a first component without '.' or ':' (and not `localhost`) is always part of the repository
 *   name, which must be lower case: `HUB/x` is refused, where Docker takes `HUB` for a registry
 *   host because of its capitals (a known oddity, marked FIXME in Docker's own tests);
 * - a first component that looks like a registry host (a '.' or a ':') must be a valid one:
 *   `foo_bar.com/x` is refused, where Docker quietly reads it as a repository name on no registry;
 * - a reference is at most MAX_IMAGE_REFERENCE_LENGTH characters in all (Docker bounds only the
 *   repository path, to 255).
 * And the familiar form always reads back as the same reference: `docker.io/a.b/c` stays so, where
 * Docker's FamiliarString gives `a.b/c`, which names the host a.b.
 */

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tag = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
const identifier = '([a-f0-9]{64})';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = alphanumeric + anyTimes(separator + alphanumeric);
const remoteName = pathComponent + anyTimes(`/${pathComponent}`);
const namePat = optional(`${domainAndPort}/`) + remoteName;

const referenceRegexp = new RegExp(anchored(capture(namePat), optional(':', capture(tag)), optional('@', capture(digestPat))));
const anchoredNameRegexp = new RegExp(anchored(optional(capture(domainAndPort), '/'), capture(remoteName)));
const anchoredIdentifierRegexp = new RegExp(anchored(identifier));
const anchoredTagRegexp = new RegExp(anchored(tag));
const anchoredDigestRegexp = new RegExp(anchored(digestPat));
const anchoredDomainRegexp = new RegExp(anchored(domainAndPort));
const anchoredPathComponentRegexp = new RegExp(anchored(pathComponent));

function optional(...res: string[]): string {
  return `(?:${res.join('')})?`;
}
function anyTimes(...res: string[]): string {
  return `(?:${res.join('')})*`;
}
function capture(...res: string[]): string {
  return `(${res.join('')})`;
}
function anchored(...res: string[]): string {
  return `^${res.join('')}$`;
}

/** Docker's limit on the repository path (`library/busybox`). */
export const MAX_REPOSITORY_PATH_LENGTH = 255;
/** Hub's limit on a whole reference: room for a host, a full path, a tag and a sha512 digest. */
export const MAX_IMAGE_REFERENCE_LENGTH = 1024;
/** What every refusal starts with. */
export const IMAGE_REFERENCE_RULE = 'must be a Docker image reference (name[:tag][@digest])';

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';
/** go-digest's algorithms and the length of their hex. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

export interface ImageReference {
  /** The registry: `docker.io` for Docker Hub, else as written (`ghcr.io`, `localhost:5000`). */
  domain: string;
  /** The repository on it: `library/busybox`, `hub/test-agent`. */
  path: string;
  tag: string | null;
  digest: string | null;
  /**
   * Docker's familiar form, with `:latest` when neither tag nor digest is given: `busybox:latest`,
   * `hub/test-agent:latest`, `ghcr.io/acme/agent:v1@sha256:…`. What Hub stores, shows and matches
   * allow-lists against.
   */
  familiar: string;
  /** Fully qualified: `docker.io/library/busybox:latest`. */
  canonical: string;
}

export type ImageReferenceParse =
  | { ok: true; reference: ImageReference }
  /** `problem`: what is wrong (`has an empty or '..' path component`); `message`: the rule, the input and the problem. */
  | { ok: false; problem: string; message: string };

/** Parses a reference as Docker does (ParseNormalizedNamed, then TagNameOnly); never throws. */
export function parseImageReference(input: string): ImageReferenceParse {
  const refuse = (problem: string): ImageReferenceParse => ({
    ok: false,
    problem,
    message: `${IMAGE_REFERENCE_RULE}; ${quote(input)} ${problem}`,
  });
  if (typeof input !== 'string') return refuse('is not a string');
  if (input === '') return refuse('is empty');
  if (input.length > MAX_IMAGE_REFERENCE_LENGTH) return refuse(`is longer than ${MAX_IMAGE_REFERENCE_LENGTH} characters`);
  if (anchoredIdentifierRegexp.test(input)) {
    return refuse('is a 64-character hexadecimal image id, not a name');
  }
  const [domain, remainder] = splitDockerDomain(input);
  const matches = referenceRegexp.exec(`${domain}/${remainder}`);
  if (!matches) return refuse(diagnose(input));
  const [, name = '', tagMatch, digestMatch] = matches;
  const nameMatch = anchoredNameRegexp.exec(name);
  const path = nameMatch?.[2] ?? name;
  // The host as split must be the host as parsed (see "stricter" above).
  if (nameMatch?.[1] !== domain) return refuse(`has an invalid registry host '${clip(domain)}'`);
  if (path.length > MAX_REPOSITORY_PATH_LENGTH) {
    return refuse(`has a repository path longer than ${MAX_REPOSITORY_PATH_LENGTH} characters`);
  }
  if (digestMatch) {
    const problem = digestProblem(digestMatch);
    if (problem) return refuse(problem);
  }
  const tagOrDefault = tagMatch ?? (digestMatch ? null : DEFAULT_TAG);
  const suffix = (tagOrDefault ? `:${tagOrDefault}` : '') + (digestMatch ? `@${digestMatch}` : '');
  return {
    ok: true,
    reference: {
      domain,
      path,
      tag: tagOrDefault,
      digest: digestMatch ?? null,
      familiar: familiarName(domain, path) + suffix,
      canonical: `${domain}/${path}${suffix}`,
    },
  };
}

/**
 * normalize.go's splitDockerDomain: the first component is a registry host when it is `localhost`
 * or has a '.' or a ':'; Docker Hub (`docker.io`, also spelled `index.docker.io`) otherwise, where
 * a one-component name is an official image (`library/…`).
 */
function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const slash = name.indexOf('/');
  if (slash === -1) return [DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name];
  const maybeDomain = name.slice(0, slash);
  const maybeRemainder = name.slice(slash + 1);
  let domain = DEFAULT_DOMAIN;
  let remainder = name;
  if (isHost(maybeDomain)) {
    domain = maybeDomain === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : maybeDomain;
    remainder = maybeRemainder;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/**
 * normalize.go's familiarizeName: Docker Hub's domain dropped, and `library/` for official images.
 * Unlike Docker, the domain stays when dropping it would change the meaning: `docker.io/a.b/c` is
 * not `a.b/c` (a repository on the host a.b).
 */
function familiarName(domain: string, path: string): string {
  if (domain !== DEFAULT_DOMAIN) return `${domain}/${path}`;
  if (path.startsWith(OFFICIAL_REPO_PREFIX) && !path.slice(OFFICIAL_REPO_PREFIX.length).includes('/')) {
    return path.slice(OFFICIAL_REPO_PREFIX.length);
  }
  const [first = ''] = path.split('/');
  return isHost(first) ? `${DEFAULT_DOMAIN}/${path}` : path;
}

/** Whether splitDockerDomain takes a first component for a registry host. */
function isHost(component: string): boolean {
  return component === 'localhost' || /[.:]/.test(component);
}

/** go-digest's Parse: a known algorithm, and lower-case hex of its length. */
function digestProblem(digest: string): string | null {
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) return `has a digest with an unsupported algorithm '${algorithm}' (sha256, sha384 or sha512)`;
  if (hex.length !== length) return `has a ${algorithm} digest of ${hex.length} hex digits instead of ${length}`;
  if (!/^[a-f0-9]+$/.test(hex)) return 'has a digest whose hex digits are not lower case';
  return null;
}

/**
 * Why a reference the grammar refused is wrong, as precisely as can be said. Only explains: the
 * grammar above has already decided.
 */
function diagnose(input: string): string {
  if (/[\s\u0000-\u001f\u007f]/.test(input)) return 'contains whitespace or control characters';
  const stray = /[^A-Za-z0-9._\-/:@[\]]/.exec(input);
  if (stray) return `contains '${stray[0]}', which no image reference may contain`;
  const at = input.indexOf('@');
  if (at !== input.lastIndexOf('@')) return "has more than one '@'";
  if (at !== -1 && !anchoredDigestRegexp.test(input.slice(at + 1))) {
    return "has an invalid digest after '@' (an algorithm, ':' and hex digits, such as sha256:<64 hex digits>)";
  }
  const nameAndTag = at === -1 ? input : input.slice(0, at);
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  if (hasTag) {
    const tagText = nameAndTag.slice(colon + 1);
    if (tagText === '') return "has an empty tag after ':'";
    if (!anchoredTagRegexp.test(tagText)) {
      return "has an invalid tag (at most 128 letters, digits, '_', '.' or '-', not starting with '.' or '-')";
    }
  }
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const hasHost = isHost(first);
  if (hasHost && !anchoredDomainRegexp.test(first)) return `has an invalid registry host '${clip(first)}'`;
  for (const component of (hasHost ? name.slice(slash + 1) : name).split('/')) {
    if (component === '' || component === '..') return "has an empty or '..' path component";
    if (!anchoredPathComponentRegexp.test(component)) {
      return anchoredPathComponentRegexp.test(component.toLowerCase())
        ? 'has upper-case letters in its repository name (Docker requires lower case)'
        : `has an invalid path component '${clip(component)}' (lower-case letters and digits, separated by '.', '_', '__' or '-')`;
    }
  }
  return 'is not of the form name[:tag][@digest]';
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The input as a message may show it: quoted, control characters escaped, cut when long. */
function quote(input: string): string {
  const escaped = [...input.slice(0, 80)]
    .map((ch) => (/[\u0020-\u007e]/.test(ch) ? ch : `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`))
    .join('');
  return `'${escaped}${input.length > 80 ? `…' (${input.length} characters)` : "'"}`;
}
