import { type OrchestrationSummary, type OrchestrationView, SESSION_STATUSES, type SessionStatus, type SessionView, isTerminal } from '@hub/contracts';
import { dagRows, displayName } from './dag-tree';
import { clockTime, formatDuration, plural, sessionDuration } from './format';
import { paintOrchestrationStatus, paintStatus, statusLabel, statusSymbol } from './status-style';
import type { Colors } from './terminal';

export interface RenderOptions {
  now: number;
  colours: Colors;
  /** Lines are cut to this many characters (a terminal's width), so none wraps. */
  width?: number;
}

/** A piece of a line, painted once the line is cut to the width. */
interface Segment {
  text: string;
  paint?: (text: string) => string;
}

const DURATION_WIDTH = 6;
const FAILURES_LISTED = 20;

/** It ended without completing (failed, timed out, cancelled, skipped): its reason says why. */
export const endedBadly = (session: Pick<SessionView, 'status'>): boolean => isTerminal(session.status) && session.status !== 'completed';

/** The segments, cut to `width` visible characters (the last one kept ends with '…'), then painted. */
function fit(segments: Segment[], width = Infinity): string {
  let room = width;
  const kept: Segment[] = [];
  for (const { text, paint } of segments) {
    if (room <= 0) break;
    const cut = text.length <= room ? text : `${text.slice(0, Math.max(0, room - 1))}…`;
    kept.push({ text: cut, paint });
    room -= cut.length;
  }
  // No trailing blanks (padding before an empty column), painted or not.
  while (kept.length && !kept[kept.length - 1].text.trimEnd()) kept.pop();
  if (kept.length) kept[kept.length - 1] = { ...kept[kept.length - 1], text: kept[kept.length - 1].text.trimEnd() };
  return kept.map(({ text, paint }) => (paint && text ? paint(text) : text)).join('');
}

/** From its first session's start to its last one's end (or now, while one runs). */
function orchestrationDuration(sessions: readonly SessionView[], now: number): string {
  const starts = sessions.flatMap((s) => (s.startedAt ? [Date.parse(s.startedAt)] : []));
  if (!starts.length) return '';
  const running = sessions.some((s) => s.startedAt && !s.finishedAt);
  const end = running ? now : Math.max(...sessions.flatMap((s) => (s.finishedAt ? [Date.parse(s.finishedAt)] : [])));
  return formatDuration(end - Math.min(...starts));
}

/** Two header lines: the orchestration (name, id, status, how long), then how many sessions are in each status. */
export function headerLines(view: OrchestrationView, { now, colours, width }: RenderOptions): string[] {
  const title = fit(
    [
      { text: view.name, paint: colours.bold },
      { text: `  ${view.id}  `, paint: colours.dim },
      { text: view.status, paint: (t) => paintOrchestrationStatus(colours, view.status, t) },
      { text: `  ${orchestrationDuration(view.sessions, now)}` },
    ],
    width,
  );
  const counts = SESSION_STATUSES.filter((status) => view.counts[status] > 0).flatMap((status, i): Segment[] => [
    { text: i ? '  ' : '' },
    { text: `${statusSymbol(status)} ${view.counts[status]} ${statusLabel(status)}`, paint: (t) => paintStatus(colours, status, t) },
  ]);
  return [title, fit([{ text: `${plural(view.sessionCount, 'session')}: ` }, ...counts], width)];
}

/** Each session on a line, indented under its first dependency: symbol, name, status, duration, other dependencies, reason. */
export function treeLines(view: OrchestrationView, { now, colours, width }: RenderOptions): string[] {
  const rows = dagRows(view.sessions);
  const heads = rows.map((row) => `${row.prefix}${statusSymbol(row.session.status)} ${displayName(row.session)}`);
  const headWidth = Math.max(0, ...heads.map((head) => head.length));
  const statusWidth = Math.max(0, ...rows.map((row) => statusLabel(row.session.status).length));
  return rows.map(({ session, prefix, dependencies }, i) => {
    const paint = (text: string) => paintStatus(colours, session.status, text);
    const reason = endedBadly(session) ? session.statusReason : null;
    return fit(
      [
        { text: prefix, paint: colours.dim },
        { text: heads[i].slice(prefix.length).padEnd(headWidth - prefix.length + 2), paint },
        { text: statusLabel(session.status).padEnd(statusWidth + 2), paint },
        { text: sessionDuration(session, now).padStart(DURATION_WIDTH) },
        { text: dependencies.length ? `  ← ${dependencies.join(', ')}` : '', paint: colours.dim },
        { text: reason ? `  ${reason}` : '', paint: colours.dim },
      ],
      width,
    );
  });
}

/**
 * What to say once it ended: the sessions that failed, timed out or were cancelled, each with its
 * reason (and how many sessions it made skip), then its result: the combined change and what
 * became of publishing it.
 */
export function summaryLines(view: OrchestrationView, colours: Colors): string[] {
  const lines: string[] = [];
  const failures = view.sessions.filter((s) => endedBadly(s) && s.status !== 'skipped');
  if (failures.length) {
    const skippedBy = new Map((view.causes ?? []).map((cause) => [cause.sessionId, cause.skipped]));
    lines.push(paintOrchestrationStatus(colours, view.status, `${plural(failures.length, 'session')} did not complete:`));
    for (const session of failures.slice(0, FAILURES_LISTED)) {
      const skipped = skippedBy.get(session.id);
      lines.push(
        `  ${paintStatus(colours, session.status, `${statusSymbol(session.status)} ${displayName(session)} ${statusLabel(session.status)}`)}` +
          `${session.statusReason ? `: ${session.statusReason}` : ''}${skipped ? colours.dim(` (${skipped} skipped because of it)`) : ''}`,
      );
    }
    if (failures.length > FAILURES_LISTED) lines.push(`  … and ${failures.length - FAILURES_LISTED} more`);
  }
  if (view.usage.tokens.total > 0 || view.budget) lines.push(spendingLine(view, colours));
  lines.push(...resultLines(view, colours));
  return lines;
}

/** `spent: 4,000 tokens ($0.12) of a budget of 4,500 tokens (500 left; exhausted: sessions not started are skipped)`. */
export function spendingLine(summary: Pick<OrchestrationSummary, 'usage' | 'budget'>, colours: Colors): string {
  const { usage, budget } = summary;
  const spent = `${usage.tokens.total.toLocaleString('en-US')} tokens${usage.costUsd === null ? '' : ` ($${usage.costUsd.toFixed(2)})`}`;
  if (!budget) return `spent: ${spent}; no budget`;
  const caps = [
    budget.tokens === null ? null : `${budget.tokens.toLocaleString('en-US')} tokens (${budget.left.tokens!.toLocaleString('en-US')} left)`,
    budget.usd === null ? null : `$${budget.usd.toFixed(2)} ($${budget.left.usd!.toFixed(2)} left)`,
  ].filter((cap) => cap !== null);
  const state = budget.exhausted ? colours.red('exhausted: sessions not started are skipped') : `on exhausted: ${budget.onExhausted}`;
  return `spent: ${spent} of a budget of ${caps.join(' and ')}; ${state}`;
}

/** The orchestration's result: its combined change and the publish outcome (nothing before it has one). */
export function resultLines(view: OrchestrationView, colours: Colors): string[] {
  const result = view.result;
  if (!result) return [];
  const lines: string[] = [];
  const changes = result.changes;
  if (changes) {
    const from = changes.sessions.map((s) => s.name ?? s.sessionId.slice(0, 8)).join(', ');
    lines.push(
      `result: ${colours.bold(changes.branch)}${changes.repository ? ` in ${changes.repository}` : ''}: ` +
        `${plural(changes.files, 'file')} changed, ${colours.green(`+${changes.added}`)} ${colours.red(`−${changes.removed}`)}` +
        `${from ? ` (from ${from})` : ''}; the diff: hub changes ${view.id}`,
    );
  } else {
    lines.push(`result: ${result.reason ? `no combined change: ${result.reason}` : 'no session changed anything'}`);
  }
  const publish = result.publish;
  if (publish?.status === 'pushed') lines.push(`publish: ${colours.green(`pushed to ${publish.branch}`)}${publish.commit ? ` at ${publish.commit.slice(0, 12)}` : ''}`);
  if (publish?.status === 'failed') lines.push(`publish: ${colours.red(`pushing to ${publish.branch} failed`)}${publish.reason ? `: ${publish.reason}` : ''}`);
  if (publish?.status === 'not_pushed') lines.push(`publish: not pushed to ${publish.branch}${publish.reason ? `: ${publish.reason}` : ''}`);
  return lines;
}

/**
 * The watch when stdout is not a terminal: one plain line per change, `12:00:01 impl-a running`
 * (an ended session adds how long it ran and why it ended so), the orchestration's own status as
 * `12:00:05 orchestration <name> completed`.
 */
export class StatusChangeLog {
  private readonly seen = new Map<string, string>();

  lines(view: OrchestrationView, at: Date): string[] {
    const clock = clockTime(at);
    const lines: string[] = [];
    for (const session of view.sessions) {
      if (this.seen.get(session.id) === session.status) continue;
      this.seen.set(session.id, session.status);
      lines.push(`${clock} ${displayName(session)} ${statusLabel(session.status)}${endedDetails(session)}`);
    }
    if (this.seen.get(view.id) !== view.status) {
      this.seen.set(view.id, view.status);
      lines.push(`${clock} orchestration ${view.name} ${view.status}`);
    }
    return lines;
  }
}

function endedDetails(session: SessionView): string {
  if (!isTerminal(session.status)) return '';
  const ran = session.startedAt && session.finishedAt ? ` after ${sessionDuration(session, 0)}` : '';
  const why = endedBadly(session) && session.statusReason ? `: ${session.statusReason}` : '';
  return `${ran}${why}`;
}
