import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { EgressTrafficSchema } from '@hub/contracts';
import { EgressTally } from './egress-tally';

/** A socket as the tally reads it: its byte counts, and its close. */
type FakeSocket = EventEmitter & { bytesRead: number; bytesWritten: number };
function socket(bytesRead: number, bytesWritten: number): FakeSocket {
  return Object.assign(new EventEmitter(), { bytesRead, bytesWritten });
}
const asSocket = (fake: FakeSocket) => fake as unknown as Socket;

describe('EgressTally', () => {
  it('counts connections and bytes per destination, open connections as of now', () => {
    const tally = new EgressTally();
    const first = socket(100, 20);
    const second = socket(5, 1);
    tally.opened('api.example.com:443', asSocket(first));
    tally.opened('api.example.com:443', asSocket(second));
    first.emit('close');
    second.bytesRead = 7;

    expect(tally.refused('evil.example:443', "not in this session's allow-list")).toBe(true);
    expect(tally.refused('evil.example:443', "not in this session's allow-list")).toBe(false);
    expect(tally.summary()).toEqual({
      destinations: [
        { destination: 'api.example.com:443', allowed: true, reason: null, connections: 2, bytesIn: 107, bytesOut: 21 },
        { destination: 'evil.example:443', allowed: false, reason: "not in this session's allow-list", connections: 2, bytesIn: 0, bytesOut: 0 },
      ],
      others: null,
    });
  });

  it('names at most 50 destinations and counts the rest, whatever the agent asks for', () => {
    const tally = new EgressTally();
    for (let i = 0; i < 1_200; i++) tally.refused(`host-${i}.example:443`, 'not allowed');
    tally.opened('late.example:443', asSocket(socket(10, 10)));

    const summary = tally.summary();
    expect(EgressTrafficSchema.parse(summary)).toEqual(summary);
    expect(summary.destinations).toHaveLength(50);
    expect(summary.others).toEqual({ destinations: 950, connections: 1_151, refused: 1_150, bytesIn: 0, bytesOut: 0 });
  });
});
