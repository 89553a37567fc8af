import type { SessionSpec } from '@hub/contracts';
import { RunnerSecrets } from '../secrets/runner-secrets';
import { containerEnvironment } from './container-environment';
import { ImageEnvironment } from './image-environment';

function spec(overrides: Partial<SessionSpec> = {}): SessionSpec {
  return {
    sessionId: '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7',
    orchestrationId: '0f1e2d3c-4b5a-4697-8877-665544332211',
    name: 'reviewer',
    orchestrationName: 'pipeline',
    type: 'agent',
    prompt: 'go on',
    context: null,
    egress: null,
    continueFrom: null,
    preamble: '',
    image: 'hub/claude-code:latest',
    repository: null,
    branch: null,
    timeoutSeconds: 60,
    attempt: 1,
    inputs: [],
    ...overrides,
  };
}

const environmentOf = (overrides: Partial<SessionSpec>) => containerEnvironment(spec(overrides), new RunnerSecrets({}, []), new ImageEnvironment(''));

describe('containerEnvironment', () => {
  it('points HUB_CONTINUE_FROM at the mounted output of the session it continues', () => {
    const env = environmentOf({
      continueFrom: 'coder',
      inputs: [
        { name: 'planner', sessionId: '6a0e8f3c-1d2b-4c5a-8e9f-0a1b2c3d4e5f' },
        { name: 'coder', sessionId: '9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e' },
      ],
    });

    expect(env['HUB_CONTINUE_FROM']).toBe('/hub/inputs/coder');
    expect(env['HUB_INPUTS']).toBe('/hub/inputs/planner /hub/inputs/coder');
  });

  it('sets no HUB_CONTINUE_FROM for a session that continues none, nor for a name that is not one of its inputs', () => {
    expect(environmentOf({ inputs: [{ name: 'coder', sessionId: '9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e' }] })).not.toHaveProperty('HUB_CONTINUE_FROM');
    expect(environmentOf({ continueFrom: '../../etc', inputs: [] })).not.toHaveProperty('HUB_CONTINUE_FROM');
  });
});
