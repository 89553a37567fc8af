import { z } from 'zod';
import { badRequest } from './rpc/rpc-result';

export interface FieldProblem {
  field: string;
  problem: string;
}

/** Turns zod issues into `{ field, problem }` pairs a client can act on. */
export function describeIssues(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.map(String).join('.') : '(body)';
    if (issue.code === 'unrecognized_keys') {
      return { field: issue.keys.join(', '), problem: 'is not a known field' };
    }
    if (issue.code === 'invalid_type') {
      return { field, problem: /received undefined$/.test(issue.message) ? 'is required' : `must be ${article(issue.expected)}` };
    }
    return { field, problem: issue.message };
  });
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** Parses input with a schema or throws a bad_request HubError naming every bad field. */
export function parseOrBadRequest<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = describeIssues(result.error);
  const summary = problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
  throw badRequest(`invalid ${what}: ${summary}`, problems);
}
