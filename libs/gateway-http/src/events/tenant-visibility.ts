import { AnyEvent, HubError } from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';

/** How many orchestrations and sessions a stream remembers the visibility of; the oldest go first. */
const REMEMBERED = 10_000;

/**
 * Whether the caller's tenant may see an event of an unfiltered stream: the event's orchestration
 * (or, for events that name only their session, its session's) is one the registry shows the caller.
 * An orchestration's tenant never changes, so each is asked about once (through the caller's own,
 * tenant-scoped reads: another tenant's is "not found") and remembered; sessions are learnt from the
 * events that name both. A stream filtered by an orchestration or a session needs none of this: the
 * registry answered that one to the caller before the stream began.
 */
export class TenantVisibility {
  private readonly orchestrations = new Map<string, boolean>();
  private readonly sessions = new Map<string, string | null>();

  constructor(private readonly hub: Pick<HubApi, 'getOrchestration' | 'getSession'>) {}

  async accepts(event: AnyEvent): Promise<boolean> {
    const data: { sessionId?: string; orchestrationId?: string } = event.data;
    if (data.sessionId && data.orchestrationId) remember(this.sessions, data.sessionId, data.orchestrationId);
    const orchestrationId = data.orchestrationId ?? (data.sessionId ? await this.orchestrationOf(data.sessionId) : null);
    return orchestrationId ? this.visible(orchestrationId) : false;
  }

  private async visible(orchestrationId: string): Promise<boolean> {
    const known = this.orchestrations.get(orchestrationId);
    if (known !== undefined) return known;
    const visible = await this.hub.getOrchestration(orchestrationId, { limit: 1 }).then(() => true, notFoundIsNo);
    remember(this.orchestrations, orchestrationId, visible);
    return visible;
  }

  private async orchestrationOf(sessionId: string): Promise<string | null> {
    if (this.sessions.has(sessionId)) return this.sessions.get(sessionId)!;
    const orchestrationId = await this.hub.getSession(sessionId).then((session) => session.orchestrationId, (error) => notFoundIsNo(error) || null);
    remember(this.sessions, sessionId, orchestrationId);
    return orchestrationId;
  }
}

/** A "not found" answer is the registry saying the caller may not see it (or it is gone); anything else is a failure. */
function notFoundIsNo(error: unknown): false {
  if (error instanceof HubError && error.code === 'not_found') return false;
  throw error;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
}
