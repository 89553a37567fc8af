import { z } from 'zod';
import { RUNNER_ID_PATTERN } from './runner-heartbeat.schemas';

/**
 * Which runners refused a ready session because its image is not on their engine (and they cannot
 * pull it): one entry per session and attempt (`<sessionId>.<attempt>`), in a NATS KV bucket. A runner
 * that lacks the image adds itself and hands the session back for another runner, unless every live
 * runner that could take it (its heartbeat present, its labels matching) has refused it: then it fails
 * the session, naming them. Entries expire after `maxAgeMs`; a new attempt starts a new entry.
 */
export const IMAGE_REFUSALS_BUCKET = {
  name: 'hub_image_refusals',
  maxAgeMs: 24 * 60 * 60_000,
  writtenBy: 'container-runner',
  readBy: ['container-runner'],
} as const;

export const ImageRefusalSchema = z.object({
  image: z.string(),
  /** The runners that refused it, in the order they did. */
  refusedBy: z.array(z.string().regex(RUNNER_ID_PATTERN)).max(1000),
});
export type ImageRefusal = z.infer<typeof ImageRefusalSchema>;

/** The key of a session's attempt in IMAGE_REFUSALS_BUCKET. */
export function imageRefusalKey(sessionId: string, attempt: number): string {
  return `${sessionId}.${attempt}`;
}
