// An orchestration the way Hub is meant to be used: analysis, then implementation and tests in
// parallel, then a review that reads both. Each stage runs in the test agent image, reads what its
// dependencies wrote (under /hub/inputs/<name>/) and writes its own output (/hub/output/).
//
// Run on its own against a running Hub:
//   HUB_URL=http://127.0.0.1:8080 HUB_API_TOKEN=$(cat .hub/api-token) \
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register examples/review-pipeline.ts

import { CreateOrchestrationRequestSchema, isTerminal } from '@hub/contracts';
import { HttpHubApi, readText } from '@hub/hub-api';

const PIPELINE = {
  name: 'review-pipeline example',
  start: true,
  sessions: [
    {
      name: 'analysis',
      type: 'analysis',
      prompt: [
        'echo "analysing the request"',
        'printf "1. parse the input\\n2. add the feature\\n3. cover it with tests\\n" > /hub/output/plan.md',
      ].join('; '),
    },
    {
      name: 'implementation',
      type: 'implementation',
      dependsOn: ['analysis'],
      prompt: [
        'echo "implementing $(wc -l < /hub/inputs/analysis/plan.md) planned steps"',
        'sleep 1',
        'sed "s/^/done: /" /hub/inputs/analysis/plan.md > /hub/output/changes.md',
      ].join('; '),
    },
    {
      name: 'tests',
      type: 'testing',
      dependsOn: ['analysis'],
      prompt: [
        'echo "writing tests for the plan"',
        'sleep 1',
        'echo "3 tests, 3 passed" > /hub/output/test-report.txt',
      ].join('; '),
    },
    {
      name: 'review',
      type: 'review',
      dependsOn: ['implementation', 'tests'],
      prompt: [
        'echo "reviewing: $HUB_INPUTS"',
        '{ echo "# Review"; cat /hub/inputs/implementation/changes.md; cat /hub/inputs/tests/test-report.txt; echo "verdict: approved"; } > /hub/output/review.md',
      ].join('; '),
    },
  ],
};

export async function runReviewPipeline(baseUrl: string, token: string, print: (line: string) => void): Promise<void> {
  const hub = new HttpHubApi({ baseUrl, apiToken: token });

  print('[pipeline] POST /api/v1/orchestrations  analysis → (implementation, tests) → review');
  let orchestration = await hub.createOrchestration(CreateOrchestrationRequestSchema.parse(PIPELINE));
  print(`[pipeline] orchestration ${orchestration.id}: ${orchestration.status}`);
  const seen = new Map(orchestration.sessions.map((s) => [s.name, s.status]));
  const deadline = Date.now() + 120_000;
  while (orchestration.sessions.some((s) => !isTerminal(s.status))) {
    if (Date.now() > deadline) throw new Error(`orchestration ${orchestration.id} still running after 120 s`);
    await new Promise((r) => setTimeout(r, 100));
    orchestration = await hub.getOrchestration(orchestration.id);
    for (const s of orchestration.sessions) {
      if (seen.get(s.name) !== s.status) {
        print(`[pipeline]   ${(s.name ?? s.id).padEnd(15)} ${seen.get(s.name)} -> ${s.status}`);
        seen.set(s.name, s.status);
      }
    }
  }
  const review = orchestration.sessions.find((s) => s.name === 'review')!;
  if (orchestration.status !== 'completed') {
    throw new Error(`the pipeline ended ${orchestration.status}: review is ${review.status} (${review.statusReason})`);
  }
  print('[pipeline] review.md, written by the review stage from its inputs:');
  const text = await readText(await hub.readOutputFile(review.id, 'review.md'));
  for (const line of text.trimEnd().split('\n')) print(`  | ${line}`);
  print(`[pipeline] completed`);
}

if (require.main === module) {
  const url = process.env['HUB_URL'] ?? 'http://127.0.0.1:8080';
  runReviewPipeline(url, process.env['HUB_API_TOKEN'] ?? '', console.log).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
