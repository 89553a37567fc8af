import { z } from 'zod';
import { ImageRefSchema, SessionTypeSchema } from './session.schemas';

/**
 * What a session type brings by default: the image its sessions run in (unless they name one) and a
 * preamble the agent receives before the prompt (HUB_PROMPT_PREAMBLE; the Claude Code entrypoint puts
 * it first, the test agent ignores it).
 */
export const SessionTemplateSchema = z.strictObject({
  image: ImageRefSchema.optional(),
  preamble: z.string().max(20_000).default(''),
});
export type SessionTemplate = z.infer<typeof SessionTemplateSchema>;

export const SessionTemplatesSchema = z.record(SessionTypeSchema, SessionTemplateSchema);
export type SessionTemplates = z.infer<typeof SessionTemplatesSchema>;

const OUTPUT = 'Write your final answer to /hub/output/result.md.';
const INPUTS = 'The outputs of the sessions you depend on are under /hub/inputs/<session name>/; read them first.';

/** The seed types. Any other label is accepted too, with the default image and no preamble. */
export const DEFAULT_SESSION_TEMPLATES: SessionTemplates = {
  analysis: {
    preamble: `You are the analysis stage of a multi-session engineering task. Study the repository and the request; do not change code. ${INPUTS} Write your findings and a step-by-step plan. ${OUTPUT}`,
  },
  implementation: {
    preamble: `You are the implementation stage of a multi-session engineering task. ${INPUTS} Make the change in /workspace, keep it focused, and run the project's tests. ${OUTPUT} Summarise what you changed.`,
  },
  testing: {
    preamble: `You are the testing stage of a multi-session engineering task. ${INPUTS} Write or extend tests for the change and run them. ${OUTPUT} Report what passed and what failed.`,
  },
  review: {
    preamble: `You are the review stage of a multi-session engineering task. ${INPUTS} Review the work of the earlier stages critically: correctness, tests, clarity. ${OUTPUT} End with a verdict: approve or request changes.`,
  },
  coordination: {
    preamble: `You coordinate a multi-session engineering task. ${INPUTS} Reconcile the results of the other sessions and say what is done and what is left. ${OUTPUT}`,
  },
};
