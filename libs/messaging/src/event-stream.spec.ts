// Setting up streams and consumers on a cluster that is still electing: a timeout is tried again, any
// other error is not.
import { whileJetStreamSettles } from './event-stream';

const timeout = () => Object.assign(new Error('TIMEOUT'), { code: 'TIMEOUT' });

describe('whileJetStreamSettles', () => {
  it('tries again while JetStream does not answer, and returns what it finally answers', async () => {
    let calls = 0;
    const answer = await whileJetStreamSettles(async () => {
      if (++calls < 3) throw timeout();
      return 'stream info';
    });
    expect(answer).toBe('stream info');
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    const refused = Object.assign(new Error('insufficient resources'), { api_error: { code: 500 } });
    await expect(
      whileJetStreamSettles(async () => {
        calls++;
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(calls).toBe(1);
  });

  it('gives up once its time is spent, with the last timeout', async () => {
    let calls = 0;
    await expect(
      whileJetStreamSettles(async () => {
        calls++;
        throw timeout();
      }, 600),
    ).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
