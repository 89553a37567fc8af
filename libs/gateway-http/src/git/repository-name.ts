/** An orchestration's id as Hub makes them: a UUID, lower case. */
const REPOSITORY_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.git$/;

/** `<orchestrationId>.git`: the name under `/git/` and in the repositories' directory. */
export const repositoryNameOf = (orchestrationId: string) => `${orchestrationId}.git`;

/** The orchestration a `/git/<name>` names, or null for anything but `<uuid>.git` (checked before the disk is touched). */
export function orchestrationIdOf(repositoryName: string): string | null {
  return REPOSITORY_NAME.exec(repositoryName)?.[1] ?? null;
}
