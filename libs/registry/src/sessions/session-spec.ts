import { SessionInput, SessionSpec } from '@hub/contracts';
import { SessionRecord } from '../store/session-record';

/** What a runner needs to run (or adopt) a session's current attempt. */
export function toSessionSpec(
  record: SessionRecord,
  orchestrationName: string,
  preamble: string,
  inputs: SessionInput[],
): SessionSpec {
  return {
    sessionId: record.id,
    orchestrationId: record.orchestrationId,
    name: record.name,
    orchestrationName,
    type: record.type,
    prompt: record.prompt,
    context: record.context,
    image: record.image,
    repository: record.repository,
    branch: record.branch,
    timeoutSeconds: record.timeoutSeconds,
    attempt: record.attempt,
    preamble,
    inputs,
    egress: record.egress,
    continueFrom: inputs.find((input) => input.sessionId === record.continues)?.name ?? null,
  };
}
