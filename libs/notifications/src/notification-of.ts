import { EventOf, EVENTS, NotificationKind } from '@hub/contracts';

/** The events notifications are made of: what the registry's notification consumers read. */
export const NOTIFICATION_SOURCES = [
  EVENTS.sessionStatusChanged,
  EVENTS.orchestrationFinished,
  EVENTS.orchestrationBudgetThreshold,
  EVENTS.sessionRateLimited,
] as const;
export type NotificationSourceSubject = (typeof NOTIFICATION_SOURCES)[number];
export type NotificationSource = { [S in NotificationSourceSubject]: EventOf<S> }[NotificationSourceSubject];

/** What a webhook is told of an event: its kind, and one sentence for people. */
export interface Notification {
  kind: NotificationKind;
  summary: string;
}

/** A reason quoted in a summary is cut here: a skip's chain of causes can be long. */
const MAX_REASON_LENGTH = 300;

/**
 * The notification an event makes, or null when it makes none (a session moving to a status that
 * does not end it).
 */
export function notificationOf(event: NotificationSource): Notification | null {
  switch (event.subject) {
    case 'session.status-changed': {
      const { sessionId, orchestrationId, to, reason } = event.data;
      const session = `Session ${sessionId} of orchestration ${orchestrationId}`;
      const why = reason ? `: ${clip(reason)}` : '';
      if (to === 'completed') return { kind: 'session.completed', summary: sentence(`${session} completed${why}`) };
      if (to === 'failed') return { kind: 'session.failed', summary: sentence(`${session} failed${why}`) };
      if (to === 'timed_out') return { kind: 'session.failed', summary: sentence(`${session} timed out${why}`) };
      if (to === 'cancelled') return { kind: 'session.cancelled', summary: sentence(`${session} was cancelled${why}`) };
      if (to === 'skipped') return { kind: 'session.skipped', summary: sentence(`${session} was skipped${why}`) };
      return null;
    }
    case 'orchestration.finished':
      return {
        kind: 'orchestration.finished',
        summary: sentence(`Orchestration ${event.data.orchestrationId} finished: ${event.data.status}`),
      };
    case 'orchestration.budget-threshold': {
      const { orchestrationId, cap, threshold, spent, budget } = event.data;
      const amount = cap === 'usd' ? `$${spent.toFixed(2)} of $${budget.toFixed(2)}` : `${spent} of ${budget} tokens`;
      const crossed = threshold >= 100 ? `has spent its whole ${cap} budget` : `has spent ${threshold} % of its ${cap} budget`;
      return { kind: 'budget.threshold', summary: sentence(`Orchestration ${orchestrationId} ${crossed} (${amount})`) };
    }
    case 'session.rate-limited': {
      const { sessionId, orchestrationId, attempt, resetAt } = event.data;
      return {
        kind: 'session.rate-limited',
        summary: sentence(
          `Session ${sessionId} of orchestration ${orchestrationId} hit a rate or usage limit of its model's API ` +
            `(attempt ${attempt}); it runs again after ${resetAt}`,
        ),
      };
    }
  }
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_REASON_LENGTH ? `${line.slice(0, MAX_REASON_LENGTH - 1)}…` : line;
}

const sentence = (text: string) => (/[.!?…]$/.test(text) ? text : `${text}.`);
