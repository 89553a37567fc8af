import { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { badRequest, describeIssues, OrchestrationIdSchema, SessionIdSchema } from '@hub/contracts';

/**
 * Validates a body, a query or one route parameter with a contract schema. A failure is a
 * bad_request naming every field: `message: "prompt: is required; timeoutSeconds: ..."` and
 * `details: [{ path, message }]`. For a parameter (`@Param('id', ...)`) the field is its name.
 */
export class ZodValidationPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown, metadata: ArgumentMetadata): z.infer<T> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const whole = metadata.data ?? metadata.type;
    const details = describeIssues(result.error).map(({ field, problem }) => ({
      path: field === '(body)' ? whole : metadata.data ? `${metadata.data}.${field}` : field,
      message: problem,
    }));
    throw badRequest(details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
  }
}

/** `@Param('id', SessionIdPipe)`: 400 "id: must be a session id (a UUID)" for anything else. */
export const SessionIdPipe = new ZodValidationPipe(SessionIdSchema);

/** `@Param('id', OrchestrationIdPipe)`: 400 for anything but a UUID. */
export const OrchestrationIdPipe = new ZodValidationPipe(OrchestrationIdSchema);
