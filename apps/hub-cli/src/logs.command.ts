import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { isTerminal, type SessionStatus, type SessionView } from '@hub/contracts';
import type { HubApi } from '@hub/hub-api';
import type { CliContext } from './cli-context';
import { copyTo } from './terminal';

export const LOG_POLL_MS = 1000;

export interface FollowLogOptions {
  /** The pause before following the next attempt (a retry's). */
  intervalMs?: number;
  /** Told each status the session is seen in: as the follow starts, and when an attempt ends. */
  onStatus?: (status: SessionStatus, session: SessionView) => void;
  /** Told Hub's own notes in the log (output not shown live, the log cap reached). */
  onNote?: (note: string) => void;
}

/**
 * Writes a session's log to `out` as its container prints it (`logs?follow=true`), attempt after
 * attempt, until the session has ended, and answers how it ended. A session that already ended has
 * its last attempt's log written whole.
 */
export async function followLog(hub: HubApi, sessionId: string, out: NodeJS.WritableStream, options: FollowLogOptions = {}): Promise<SessionView> {
  let session = await hub.getSession(sessionId);
  options.onStatus?.(session.status, session);
  for (;;) {
    for await (const line of await hub.followSessionLog(sessionId)) {
      if (line.stream === 'hub') options.onNote?.(line.line);
      else if (!out.write(`${line.line}\n`)) await once(out, 'drain');
    }
    const seen = session.status;
    session = await hub.getSession(sessionId);
    if (session.status !== seen) options.onStatus?.(session.status, session);
    if (isTerminal(session.status)) return session;
    await sleep(options.intervalMs ?? LOG_POLL_MS);
  }
}

/** `hub logs <sessionId> [-f]`: the container's stdout and stderr, as stored when it exited, or as it prints them. */
export function logsCommand(cli: CliContext): Command {
  return new Command('logs')
    .description("print a session's log (its container's stdout and stderr)")
    .argument('<sessionId>')
    .option('-f, --follow', "print its log as it runs, attempt after attempt, until the session ends (its status and Hub's notes on stderr)")
    .action(async (sessionId: string, options: { follow?: boolean }, command: Command) => {
      const hub = await cli.connect(command);
      const { out, err } = cli.terminal;
      if (options.follow) {
        await followLog(hub, sessionId, out, {
          onStatus: (status) => err.write(`[hub] session ${sessionId} ${status}\n`),
          onNote: (note) => err.write(`${note}\n`),
        });
      } else {
        await copyTo(out, (await hub.sessionLog(sessionId)).content);
      }
    });
}
