// An orchestration a user would really run with Claude Code: write a short Python tutorial.
// An outline first; then one session per chapter, in parallel, each reading the outline; then a
// review that reads every chapter and assembles the tutorial.
//
//   # with Claude Code (image hub/claude-code:latest, ANTHROPIC_API_KEY configured on the runner):
//   HUB_URL=http://127.0.0.1:8080 HUB_API_TOKEN=$(cat .hub/api-token) \
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register examples/python-tutorial.ts
//
//   # dry run with the test agent (same DAG, shell prompts that stand in for each stage):
//   ... examples/python-tutorial.ts --dry-run

const CHAPTERS = [
  { name: 'chapter-basics', title: 'Values, variables and types' },
  { name: 'chapter-control', title: 'Conditions and loops' },
  { name: 'chapter-functions', title: 'Functions and modules' },
];

interface StageSession {
  name: string;
  type: string;
  prompt: string;
  dependsOn: string[];
  image?: string;
  timeoutSeconds?: number;
  retries?: number;
}

/** The DAG as Claude Code would run it: natural-language prompts, outputs under /hub/output. */
export function tutorialOrchestration(dryRun: boolean) {
  const claude = (session: StageSession): StageSession => ({ ...session, image: 'hub/claude-code:latest', timeoutSeconds: 1800, retries: 1 });
  const dry = (session: StageSession, shell: string): StageSession => ({ ...session, prompt: shell, image: 'hub/test-agent:latest' });
  const stage = dryRun ? dry : (session: StageSession) => claude(session);

  const outline = stage(
    {
      name: 'outline',
      type: 'analysis',
      dependsOn: [],
      prompt:
        'Plan a beginner Python tutorial in three chapters: ' +
        CHAPTERS.map((c) => `"${c.title}"`).join(', ') +
        '. For each chapter list the concepts, one runnable example and one exercise. Write the outline to /hub/output/outline.md.',
    },
    `printf '# Outline\\n${CHAPTERS.map((c) => `- ${c.title}`).join('\\n')}\\n' > /hub/output/outline.md; echo outlined`,
  );
  const chapters = CHAPTERS.map((chapter) =>
    stage(
      {
        name: chapter.name,
        type: 'implementation',
        dependsOn: ['outline'],
        prompt:
          `Write the chapter "${chapter.title}" of the tutorial following /hub/inputs/outline/outline.md: ` +
          'explanations, runnable examples (check that they run with python3), one exercise with its solution. ' +
          `Write it to /hub/output/${chapter.name}.md.`,
      },
      `grep -q '${chapter.title}' /hub/inputs/outline/outline.md && printf '## ${chapter.title}\\n\\n(dry run)\\n' > /hub/output/${chapter.name}.md`,
    ),
  );
  const review = stage(
    {
      name: 'review',
      type: 'review',
      dependsOn: CHAPTERS.map((c) => c.name),
      prompt:
        'Review the chapters under /hub/inputs/ for correctness and consistency with each other, fix what is wrong, ' +
        'and assemble the whole tutorial, chapters in order, into /hub/output/tutorial.md.',
    },
    `cat ${CHAPTERS.map((c) => `/hub/inputs/${c.name}/${c.name}.md`).join(' ')} > /hub/output/tutorial.md; echo reviewed`,
  );
  return { name: dryRun ? 'python tutorial (dry run)' : 'python tutorial', start: true, sessions: [outline, ...chapters, review] };
}

async function main() {
  const dryRun = process.argv.includes('--dry-run');
  const baseUrl = process.env['HUB_URL'] ?? 'http://127.0.0.1:8080';
  const headers = { authorization: `Bearer ${process.env['HUB_API_TOKEN'] ?? ''}`, 'content-type': 'application/json' };
  const created = await fetch(`${baseUrl}/api/v1/orchestrations`, {
    method: 'POST',
    headers,
    body: JSON.stringify(tutorialOrchestration(dryRun)),
  });
  if (created.status !== 201) throw new Error(`HTTP ${created.status}: ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  console.log(`orchestration ${id} started; follow it with examples/watch-orchestration.ts ${id}`);
  for (;;) {
    const view = (await (await fetch(`${baseUrl}/api/v1/orchestrations/${id}`, { headers })).json()) as {
      status: string;
      sessions: { id: string; name: string; status: string; statusReason: string | null }[];
    };
    if (!['pending', 'running'].includes(view.status)) {
      for (const s of view.sessions) console.log(`${s.name.padEnd(18)} ${s.status}${s.statusReason ? `  (${s.statusReason})` : ''}`);
      const review = view.sessions.find((s) => s.name === 'review')!;
      if (view.status === 'completed') {
        console.log(await (await fetch(`${baseUrl}/api/v1/sessions/${review.id}/output/files/tutorial.md`, { headers })).text());
      }
      process.exit(view.status === 'completed' ? 0 : 1);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
