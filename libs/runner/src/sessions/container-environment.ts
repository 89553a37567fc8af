import type { SessionSpec } from '@hub/contracts';
import { CONTAINER_CONTEXT_FILE, CONTAINER_INPUTS_DIR, CONTAINER_PROMPT_FILE } from '../ports/container-engine.port';
import type { RunnerSecrets } from '../secrets/runner-secrets';
import type { ImageEnvironment } from './image-environment';

/**
 * Prompts up to this size are also given in HUB_PROMPT, for agents written before /hub/prompt.
 * Linux caps one environment string at 128 KiB, so a longer prompt is only in the file.
 */
export const PROMPT_ENV_MAX_BYTES = 32 * 1024;

/**
 * The environment of a session's container: its image's settings (HUB_IMAGE_ENV), who it is, where its
 * prompt and inputs are, the conversation it continues (HUB_CONTINUE_FROM: the output of the session
 * it continues, one of its inputs), the secrets its image is granted.
 */
export function containerEnvironment(spec: SessionSpec, secrets: RunnerSecrets, imageEnvironment: ImageEnvironment): Record<string, string> {
  return {
    ...imageEnvironment.forImage(spec.image),
    HUB_SESSION_ID: spec.sessionId,
    HUB_ORCHESTRATION_ID: spec.orchestrationId,
    HUB_SESSION_TYPE: spec.type,
    HUB_PROMPT_FILE: CONTAINER_PROMPT_FILE,
    ...(spec.context !== null ? { HUB_CONTEXT_FILE: CONTAINER_CONTEXT_FILE } : {}),
    ...(Buffer.byteLength(spec.prompt) <= PROMPT_ENV_MAX_BYTES ? { HUB_PROMPT: spec.prompt } : {}),
    HUB_ATTEMPT: String(spec.attempt),
    HUB_INPUTS: spec.inputs.map((input) => `${CONTAINER_INPUTS_DIR}/${input.name}`).join(' '),
    ...(spec.continueFrom !== null && spec.inputs.some((input) => input.name === spec.continueFrom)
      ? { HUB_CONTINUE_FROM: `${CONTAINER_INPUTS_DIR}/${spec.continueFrom}` }
      : {}),
    ...(spec.preamble ? { HUB_PROMPT_PREAMBLE: spec.preamble } : {}),
    // /workspace is the repository, prepared by Hub; these say where it came from.
    ...(spec.repository ? { HUB_REPOSITORY: isLocalPath(spec.repository) ? 'local' : spec.repository } : {}),
    ...(spec.branch ? { HUB_BRANCH: spec.branch } : {}),
    ...secrets.forImage(spec.image),
  };
}

export const isLocalPath = (repository: string) => repository.startsWith('/') || repository.startsWith('file://');
