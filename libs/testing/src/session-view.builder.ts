import { randomUUID } from 'node:crypto';
import type { SessionView } from '@hub/contracts';

/**
 * A session as the registry shows it, freshly created with the API's defaults; a test gives only
 * the fields it is about.
 */
export function buildSessionView(overrides: Partial<SessionView> = {}): SessionView {
  return {
    id: randomUUID(),
    orchestrationId: randomUUID(),
    name: null,
    type: 'implementation',
    status: 'created',
    statusReason: null,
    exitCode: null,
    containerId: null,
    runnerId: null,
    image: 'hub/test-agent:latest',
    repository: null,
    branch: null,
    timeoutSeconds: 3600,
    runnerLabels: [],
    dependsOn: [],
    retries: 0,
    attempt: 0,
    attempts: [],
    log: null,
    output: null,
    changes: null,
    egress: null,
    usage: null,
    continues: null,
    continuedBy: [],
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}
