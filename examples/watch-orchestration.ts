// A small integration: prints an orchestration's progress live from NATS, the way a dashboard or a
// chat notifier would. It reads through a durable consumer named by Hub's convention
// (`integration--<name>`), so started late it still gets the whole history, and restarted it goes on
// from where it stopped.
//
//   NATS_URL=nats://127.0.0.1:4222 SWC_NODE_PROJECT=tsconfig.base.json \
//   node -r @swc-node/register examples/watch-orchestration.ts <orchestration id>
import { connect } from 'nats';
import { isTerminal } from '@hub/contracts';
import { subscribeIntegration } from '@hub/messaging';

export interface WatchOptions {
  natsUrl: string;
  orchestrationId: string;
  /** The integration's name (its durable consumer is `integration--<name>`). */
  name: string;
  print: (line: string) => void;
  /** Remove the durable consumer once the orchestration has ended (a one-off watch). */
  removeWhenDone?: boolean;
}

/** Resolves once every session of the orchestration has ended; returns the transitions it saw. */
export async function watchOrchestration(options: WatchOptions): Promise<string[]> {
  const nc = await connect({ servers: options.natsUrl, name: `integration ${options.name}` });
  const subscription = await subscribeIntegration(nc, options.name);
  const open = new Set<string>();
  const seen: string[] = [];
  try {
    for await (const { event, ack } of subscription.events()) {
      ack();
      if (event.subject === 'session.created' && event.data.orchestrationId === options.orchestrationId) {
        open.add(event.data.sessionId);
      }
      if (event.subject !== 'session.status-changed' || event.data.orchestrationId !== options.orchestrationId) continue;
      const { sessionId, from, to, reason, at } = event.data;
      seen.push(`${sessionId} ${from}->${to}`);
      options.print(`${at}  ${sessionId.slice(0, 8)}  ${from} -> ${to}${reason ? `  (${reason})` : ''}`);
      if (isTerminal(to)) open.delete(sessionId);
      if (open.size === 0) break;
    }
  } finally {
    await (options.removeWhenDone ? subscription.remove() : subscription.stop());
    await nc.close();
  }
  return seen;
}

if (require.main === module) {
  const orchestrationId = process.argv[2];
  if (!orchestrationId) {
    console.error('usage: watch-orchestration.ts <orchestration id>');
    process.exit(2);
  }
  watchOrchestration({
    natsUrl: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    orchestrationId,
    name: `watch-${orchestrationId.slice(0, 8)}`,
    print: console.log,
    removeWhenDone: true,
  }).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
