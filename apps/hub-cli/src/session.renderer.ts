import type { SessionView } from '@hub/contracts';
import { displayName } from './dag-tree';
import { formatSize, plural, sessionDuration } from './format';
import { paintStatus, statusLabel, statusSymbol } from './status-style';
import type { Colors } from './terminal';

/** A session as `hub get` shows it: a field a line, and the commands that read more of it. */
export function sessionLines(session: SessionView, colours: Colors, now: number): string[] {
  const field = (name: string, value: string) => `${colours.dim(name.padEnd(14))}${value}`;
  const status = paintStatus(colours, session.status, `${statusSymbol(session.status)} ${statusLabel(session.status)}`);
  const duration = sessionDuration(session, now);
  const lines = [
    field('session', `${colours.bold(displayName(session))}  ${session.id}`),
    field('status', `${status}${duration ? `  ${duration}` : ''}${session.statusReason ? `  ${session.statusReason}` : ''}`),
    field('orchestration', session.orchestrationId),
    field('type', `${session.type}  (image ${session.image})`),
  ];
  if (session.repository) lines.push(field('repository', `${session.repository}${session.branch ? ` @ ${session.branch}` : ''}`));
  if (session.dependsOn.length) lines.push(field('depends on', session.dependsOn.join(', ')));
  lines.push(field('attempt', `${session.attempt} of ${session.retries + 1}${session.exitCode === null ? '' : `, exit code ${session.exitCode}`}`));
  for (const attempt of session.attempts.slice(0, -1)) {
    lines.push(field('', colours.dim(`attempt ${attempt.attempt}: ${attempt.status}${attempt.reason ? ` (${attempt.reason})` : ''}`)));
  }
  lines.push(field('created', `${session.createdAt}${session.startedAt ? `, started ${session.startedAt}` : ''}${session.finishedAt ? `, ended ${session.finishedAt}` : ''}`));
  if (session.log) {
    const dropped = session.log.droppedBytes ? `, ${formatSize(session.log.droppedBytes)} dropped over the cap` : '';
    lines.push(field('log', `${formatSize(session.log.bytes)}${dropped}  (hub logs ${session.id})`));
  }
  if (session.output) {
    const skipped = session.output.skipped ? `, ${session.output.skipped} not kept` : '';
    lines.push(field('output', `${plural(session.output.files, 'file')}, ${formatSize(session.output.bytes)}${skipped}  (hub output ${session.id})`));
  }
  if (session.changes) {
    const { branch, files, added, removed } = session.changes;
    lines.push(field('changes', `${branch}: ${plural(files, 'file')}, ${colours.green(`+${added}`)} ${colours.red(`−${removed}`)}  (hub changes ${session.id})`));
  }
  return lines;
}
