import Docker from 'dockerode';

export const docker = new Docker();

/** Containers (running or not) labelled as this session's. */
export async function containersOf(sessionId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`hub.session=${sessionId}`] } });
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The runner reports a session's end before it removes the container (so a crash in between leaves
 * an orphan to clean up, never a lost result): removal follows the terminal status within moments.
 */
export async function expectRemoved(sessionId: string, timeoutMs = 5_000): Promise<void> {
  await waitUntil(`the container of session ${sessionId} is removed`, async () => (await containersOf(sessionId)).length === 0, timeoutMs);
}
