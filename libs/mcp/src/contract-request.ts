import { z } from 'zod';
import { badRequest, describeIssues } from '@hub/contracts';

/**
 * Parses what a tool built from its arguments with the contract's request schema, and refuses it
 * with the message the REST API gives for the same body ("prompt: is required; ..."), so a
 * refusal reads the same over MCP and REST.
 */
export function parseContractRequest<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = describeIssues(result.error).map(({ field, problem }) => ({
    path: field === '(body)' ? 'body' : field,
    message: problem,
  }));
  throw badRequest(details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}
