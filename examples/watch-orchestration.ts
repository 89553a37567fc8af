// A small integration: prints an orchestration's progress live, the way a dashboard or a chat notifier
// would, from the gateway's server-sent events (`GET /api/v1/events`, the API token as for any route).
// Started at any time, it gets the orchestration's whole history (the stream replays from its creation);
// should the connection drop, it reconnects after the last event it got (`Last-Event-ID`), so it misses
// none and sees none twice. It stops once the orchestration has finished, and leaves nothing behind: the
// gateway removes the stream's JetStream consumer when the client goes.
//
//   HUB_URL=http://127.0.0.1:8080 HUB_API_TOKEN=$(cat .hub/api-token) SWC_NODE_PROJECT=tsconfig.base.json \
//   node -r @swc-node/register examples/watch-orchestration.ts <orchestration id>
import { readFileSync } from 'node:fs';
import { type AnyEvent, HTTP_ROUTES, queryStringOf } from '@hub/contracts';
import { serverSentEvents } from '@hub/hub-api';

export interface WatchOptions {
  /** The gateway, e.g. http://127.0.0.1:8080 */
  hubUrl: string;
  apiToken: string;
  orchestrationId: string;
  print: (line: string) => void;
}

/** A refusal of the gateway (a bad id, a wrong token): reconnecting would not help. */
class Refused extends Error {}

/** Resolves once the orchestration has finished; returns the transitions it saw (`<session id> <from>-><to>`). */
export async function watchOrchestration(options: WatchOptions): Promise<string[]> {
  const seen: string[] = [];
  let lastEventId: string | undefined;
  // The route and its query as the routes catalog (and the OpenAPI document) describe them.
  const query = queryStringOf({ orchestrationId: options.orchestrationId, type: 'session.status-changed,orchestration.finished' });
  const url = `${options.hubUrl.replace(/\/+$/, '')}${HTTP_ROUTES.streamEvents.path}${query}`;
  for (;;) {
    const abort = new AbortController();
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${options.apiToken}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal: abort.signal,
      });
      if (response.status >= 400 && response.status < 500) throw new Refused(`${response.status}: ${await response.text()}`);
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      for await (const message of serverSentEvents(response.body as AsyncIterable<Uint8Array>)) {
        lastEventId = message.id;
        const event = JSON.parse(message.data) as AnyEvent;
        if (event.subject === 'orchestration.finished') {
          options.print(`${event.data.at}  orchestration ${event.data.status}`);
          return seen;
        }
        if (event.subject !== 'session.status-changed') continue;
        const { sessionId, from, to, reason, at } = event.data;
        seen.push(`${sessionId} ${from}->${to}`);
        options.print(`${at}  ${sessionId.slice(0, 8)}  ${from} -> ${to}${reason ? `  (${reason})` : ''}`);
      }
    } catch (error) {
      if (error instanceof Refused) throw error;
      options.print(`connection lost (${(error as Error).message}); reconnecting after event ${lastEventId ?? '(none yet)'}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      abort.abort();
    }
  }
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
