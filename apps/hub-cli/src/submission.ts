import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import {
  type CreateOrchestrationRequest,
  CreateOrchestrationRequestSchema,
  type CreateSessionRequest,
  CreateSessionRequestSchema,
  describeIssues,
} from '@hub/contracts';
import { CliError } from './cli-error';

/** What a submitted file asks for: an orchestration (it has `sessions`) or one session (`prompt`). */
export type Submission =
  | { kind: 'orchestration'; request: CreateOrchestrationRequest }
  | { kind: 'session'; request: CreateSessionRequest };

/**
 * A YAML or JSON file (JSON is YAML) holding the body of POST /api/v1/orchestrations, or of POST
 * /api/v1/sessions when it has a `prompt` and no `sessions`; checked against the same contract the
 * gateway checks, so a mistake is named before anything is sent. Submitting means running: `start`
 * is true unless the file says otherwise.
 */
export function parseSubmission(text: string, file: string): Submission {
  let body: unknown;
  try {
    body = parseYaml(text);
  } catch (error) {
    throw new CliError(`${file} is neither YAML nor JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CliError(`${file} must hold an object: an orchestration (name, sessions) or a session (prompt)`);
  }
  const withStart = { ...body, start: (body as { start?: unknown }).start ?? true };
  if ('sessions' in body) return { kind: 'orchestration', request: checked(CreateOrchestrationRequestSchema, withStart, file) };
  if ('prompt' in body) return { kind: 'session', request: checked(CreateSessionRequestSchema, withStart, file) };
  throw new CliError(`${file} has neither sessions (an orchestration) nor prompt (a session)`);
}

function checked<S extends z.ZodType>(schema: S, body: unknown, file: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = describeIssues(parsed.error).map((p) => `${p.field}: ${p.problem}`);
  throw new CliError(`${file}: ${problems.join('; ')}`);
}
