import type { OrchestrationView, SessionView } from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';
import { CliError, isNotFound } from './cli-error';
import { readOrchestration } from './orchestration-updates';

/** What an id names: a session, or else an orchestration (with every one of its sessions). */
export type Target = { kind: 'session'; session: SessionView } | { kind: 'orchestration'; orchestration: OrchestrationView };

/** Asks for a session with this id, then for an orchestration; neither is a 404 naming both. */
export async function findTarget(hub: HubApi, id: string): Promise<Target> {
  try {
    return { kind: 'session', session: await hub.getSession(id) };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    return { kind: 'orchestration', orchestration: await readOrchestration(hub, id) };
  } catch (error) {
    if (isNotFound(error)) throw new CliError(`there is no session and no orchestration ${id} (HTTP 404 not_found)`);
    throw error;
  }
}
