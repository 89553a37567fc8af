import { familiarPattern, imageMatches } from '@hub/contracts';

/** Set by the runner itself (who the session is, how it reaches Hub's proxy): never by configuration. */
const RUNNER_OWNED = /^(HUB_.*|(HTTPS?|NO|ALL)_PROXY)$/i;
/** What names a secret: secrets go through HUB_SECRET_<NAME> and HUB_IMAGE_SECRETS, which mask them. */
const SECRET_LIKE = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE/i;

interface ImageEnvRule {
  pattern: string;
  name: string;
  value: string;
}

/**
 * HUB_IMAGE_ENV: plain settings given to the containers of the images they name,
 * `image-pattern=NAME=value;…` (one variable a rule; the value may hold `=` and `,`, not `;`), e.g.
 * `hub/claude-code*=ANTHROPIC_BASE_URL=http://api.anthropic.com:80`. Never a secret: a name that looks
 * like one (`*KEY*`, `*TOKEN*`, …), a URL with a password and the runner's own variables (`HUB_*`, the
 * proxy's) are refused. When several rules give an image the same name, the first wins.
 */
export class ImageEnvironment {
  private readonly rules: ImageEnvRule[];

  constructor(spec: string) {
    this.rules = spec
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map(parseRule);
  }

  /** The variables the containers of `image` receive. */
  forImage(image: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const rule of this.rules) {
      if (!(rule.name in env) && imageMatches(rule.pattern, image)) env[rule.name] = rule.value;
    }
    return env;
  }
}

function parseRule(rule: string): ImageEnvRule {
  const match = /^([^=]+)=([^=]+)=(.*)$/.exec(rule);
  const [pattern, name, value] = [match?.[1]?.trim(), match?.[2]?.trim(), match?.[3]?.trim() ?? ''];
  if (!pattern || !name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`HUB_IMAGE_ENV: "${rule}" must look like image-pattern=NAME=value (e.g. hub/claude-code*=ANTHROPIC_BASE_URL=http://api.anthropic.com:80)`);
  }
  if (RUNNER_OWNED.test(name)) throw new Error(`HUB_IMAGE_ENV: ${name} is set by the runner, not by configuration`);
  if (SECRET_LIKE.test(name)) {
    throw new Error(`HUB_IMAGE_ENV: ${name} looks like a secret: give it with HUB_SECRET_${name} and HUB_IMAGE_SECRETS, which mask it`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(value)) {
    throw new Error(`HUB_IMAGE_ENV: ${name} holds a URL with a password: give secrets with HUB_SECRET_<NAME> and HUB_IMAGE_SECRETS`);
  }
  return { pattern: familiarPattern(pattern, 'HUB_IMAGE_ENV'), name, value };
}
