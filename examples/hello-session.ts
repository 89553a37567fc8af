// The example `npm run hub` runs: one session in the test agent image that prints, works for a
// moment and writes an output file. It follows the session until it ends and prints its log and
// output, the way any client of the REST API would: through HttpHubApi, the typed client built from
// the same routes catalog as the API's OpenAPI document (/api/openapi.json).
//
// Run on its own against a running Hub:
//   HUB_URL=http://127.0.0.1:8080 HUB_API_TOKEN=$(cat .hub/api-token) \
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register examples/hello-session.ts

import { isTerminal } from '@hub/contracts';
import { HttpHubApi, readText } from '@hub/hub-api';

const PROMPT = [
  'echo "hello from session $HUB_SESSION_ID"',
  'for step in 1 2 3; do echo "working... step $step"; sleep 0.3; done',
  'echo "the answer is 42" > /hub/output/result.txt',
  'echo done',
].join('; ');

export async function runHelloExample(baseUrl: string, token: string, print: (line: string) => void): Promise<void> {
  const hub = new HttpHubApi({ baseUrl, apiToken: token });

  print('[example] POST /api/v1/sessions  (type "analysis", image hub/test-agent:latest, start: true)');
  let session = await hub.createSession({ type: 'analysis', prompt: PROMPT, start: true });
  print(`[example] session ${session.id}: ${session.status}`);

  const deadline = Date.now() + 120_000;
  let last = session.status;
  while (!isTerminal(session.status)) {
    if (Date.now() > deadline) throw new Error(`session ${session.id} still ${session.status} after 120 s`);
    await new Promise((r) => setTimeout(r, 100));
    session = await hub.getSession(session.id);
    if (session.status !== last) {
      print(`[example] session ${session.id}: ${last} -> ${session.status}${session.statusReason ? ` (${session.statusReason})` : ''}`);
      last = session.status;
    }
  }

  print('[example] its log:');
  for (const line of (await readText(await hub.sessionLog(session.id))).trimEnd().split('\n')) print(`  | ${line}`);
  const output = await hub.getSessionOutput(session.id);
  for (const file of output.files) {
    const content = await readText(await hub.readOutputFile(session.id, file.path));
    print(`[example] output file ${file.path} (${file.size} bytes): ${content.trim()}`);
  }
  if (session.status !== 'completed') {
    throw new Error(`the example session ended ${session.status}: ${session.statusReason ?? 'no reason given'}`);
  }
  print(`[example] completed with exit code ${session.exitCode}`);
}

if (require.main === module) {
  const url = process.env['HUB_URL'] ?? 'http://127.0.0.1:8080';
  runHelloExample(url, process.env['HUB_API_TOKEN'] ?? '', console.log).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
