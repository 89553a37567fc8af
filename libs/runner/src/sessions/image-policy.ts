/**
 * Which images a runner will run: a comma-separated allow-list of references where `*` matches
 * anything (`hub/*`, `ghcr.io/acme/agent:*`).
 */
export class ImagePolicy {
  private readonly patterns: RegExp[];

  constructor(readonly allowList: string) {
    this.patterns = allowList
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('.*')}$`));
  }

  allows(image: string): boolean {
    return this.patterns.some((pattern) => pattern.test(image));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
