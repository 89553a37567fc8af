import { CreateSessionRequestSchema, HubError, ListSessionsQuerySchema } from '@hub/contracts';
import { SessionIdPipe, ZodValidationPipe } from './zod-validation.pipe';

const failure = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    return error as HubError;
  }
  throw new Error('expected a bad_request');
};

describe('ZodValidationPipe', () => {
  const body = new ZodValidationPipe(CreateSessionRequestSchema);

  it('names every bad field of a body', () => {
    const error = failure(() => body.transform({ type: 'analysis', timeoutSeconds: -1, colour: 'red' }, { type: 'body' }));
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('prompt: is required');
    expect(error.message).toContain('timeoutSeconds: ');
    expect(error.message).toContain('colour: is not a known field');
    expect(error.details).toEqual(
      expect.arrayContaining([{ path: 'prompt', message: 'is required' }, { path: 'colour', message: 'is not a known field' }]),
    );
  });

  it('says the body is required when there is none', () => {
    expect(failure(() => body.transform(undefined, { type: 'body' })).message).toBe('body: is required');
  });

  it('names a route parameter by its name', () => {
    expect(failure(() => SessionIdPipe.transform('nope', { type: 'param', data: 'id' })).message).toBe(
      'id: must be a session id (a UUID)',
    );
  });

  it('coerces the page size of a query and refuses unknown parameters', () => {
    const query = new ZodValidationPipe(ListSessionsQuerySchema);
    expect(query.transform({ limit: '20' }, { type: 'query' })).toEqual({ limit: 20 });
    expect(failure(() => query.transform({ limit: '501' }, { type: 'query' })).message).toMatch(/^limit: /);
    expect(failure(() => query.transform({ colour: 'red' }, { type: 'query' })).message).toBe('colour: is not a known field');
  });
});
