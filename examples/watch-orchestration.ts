// A small integration: prints an orchestration's progress live, the way a dashboard or a chat notifier
// would, from the gateway's server-sent events (`GET /api/v1/events`, the API token as for any route).
// Started at any time, it gets the orchestration's whole history (the stream replays from its creation);
// should the connection drop, its client (HttpHubApi.events, of @hub/hub-api) reconnects after the last
// event it got (`Last-Event-ID`), so it misses none and sees none twice. It stops once the orchestration
// has finished, and leaves nothing behind: the gateway removes the stream's JetStream consumer when the
// client goes.
//
//   HUB_URL=http://127.0.0.1:8080 HUB_API_TOKEN=$(cat .hub/api-token) SWC_NODE_PROJECT=tsconfig.base.json \
//   node -r @swc-node/register examples/watch-orchestration.ts <orchestration id>
import { readFileSync } from 'node:fs';
import { HttpHubApi } from '@hub/hub-api';

export interface WatchOptions {
  /** The gateway, e.g. http://127.0.0.1:8080 */
  hubUrl: string;
  apiToken: string;
  orchestrationId: string;
  print: (line: string) => void;
}

/** Resolves once the orchestration has finished; returns the transitions it saw (`<session id> <from>-><to>`). */
export async function watchOrchestration(options: WatchOptions): Promise<string[]> {
  const hub = new HttpHubApi({ baseUrl: options.hubUrl, apiToken: options.apiToken });
  const seen: string[] = [];
  // The client makes the connection again after the last event it got; a refusal (a bad id, a wrong token) is thrown.
  const events = hub.events(
    { orchestrationId: options.orchestrationId, types: ['session.status-changed', 'orchestration.finished'] },
    { onReconnect: ({ error, after }) => options.print(`connection lost (${error.message}); reconnecting after event ${after ?? '(none yet)'}`) },
  );
  for await (const { event } of events) {
    if (event.subject === 'orchestration.finished') {
      options.print(`${event.data.at}  orchestration ${event.data.status}`);
      break; // leaving the loop hangs up
    }
    if (event.subject !== 'session.status-changed') continue;
    const { sessionId, from, to, reason, at } = event.data;
    seen.push(`${sessionId} ${from}->${to}`);
    options.print(`${at}  ${sessionId.slice(0, 8)}  ${from} -> ${to}${reason ? `  (${reason})` : ''}`);
  }
  return seen;
}

if (require.main === module) {
  const orchestrationId = process.argv[2];
  if (!orchestrationId) {
    console.error('usage: watch-orchestration.ts <orchestration id>   (HUB_URL, HUB_API_TOKEN or .hub/api-token)');
    process.exit(2);
  }
  watchOrchestration({
    hubUrl: process.env['HUB_URL'] ?? 'http://127.0.0.1:8080',
    apiToken: process.env['HUB_API_TOKEN'] ?? readFileSync('.hub/api-token', 'utf8').trim(),
    orchestrationId,
    print: console.log,
  }).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
