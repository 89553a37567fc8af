import { Injectable } from '@nestjs/common';
import { EventOf, SessionStatus } from '@hub/contracts';
import { SessionTransitions } from './session-transitions';

/** Applies what runners report about containers: starting → running → a terminal status. */
@Injectable()
export class RecordContainerOutcome {
  constructor(private readonly transitions: SessionTransitions) {}

  async started(event: EventOf<'container.started'>): Promise<void> {
    const { sessionId, containerId, startedAt } = event.data;
    await this.transitions.move({
      sessionId,
      from: ['starting'],
      to: 'running',
      reason: `container ${containerId.slice(0, 12)} started`,
      changes: { containerId, startedAt: new Date(startedAt) },
    });
  }

  async exited(event: EventOf<'container.exited'>): Promise<void> {
    const exit = event.data;
    const { status, reason } = finalStatusOf(exit);
    await this.transitions.move({
      sessionId: exit.sessionId,
      from: ['starting', 'running'],
      to: status,
      reason,
      changes: {
        exitCode: exit.exitCode,
        oomKilled: exit.oomKilled,
        ...(exit.containerId ? { containerId: exit.containerId } : {}),
        outputFiles: exit.files,
        logBytes: exit.logBytes,
        finishedAt: new Date(event.occurredAt),
      },
    });
  }
}

/** The status and reason a container's end gives its session. */
export function finalStatusOf(exit: EventOf<'container.exited'>['data']): { status: SessionStatus; reason: string } {
  const detail = exit.detail ? `: ${exit.detail}` : '';
  switch (exit.cause) {
    case 'exited':
      if (exit.exitCode === 0) return { status: 'completed', reason: 'exited with code 0' };
      return {
        status: 'failed',
        reason: `exited with code ${exit.exitCode}${exit.oomKilled ? ' (killed: out of memory)' : ''}`,
      };
    case 'timed_out':
      return { status: 'timed_out', reason: `timed_out: exceeded its time limit${detail}` };
    case 'cancelled':
      return { status: 'cancelled', reason: `cancelled on request${detail}` };
    default:
      return { status: 'failed', reason: `${exit.cause}${detail}` };
  }
}
