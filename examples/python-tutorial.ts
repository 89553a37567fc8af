// An orchestration a user would really run with Claude Code: write a short Python tutorial, in a git
// repository. An outline first; then one session per chapter, in parallel, each starting from the
// outline's commit; then a review that starts from every chapter merged, checks the examples run and
// assembles the tutorial. The work flows through git: each session's /workspace is prepared by Hub
// with the changes of the sessions it depends on, and the orchestration's result is the review's
// branch (GET /api/v1/orchestrations/:id/changes, or `git fetch` from Hub).
//
//   # with Claude Code (image hub/claude-code:latest, ANTHROPIC_API_KEY configured on the runner):
//   HUB_URL=http://127.0.0.1:8080 HUB_API_TOKEN=$(cat .hub/api-token) \
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register examples/python-tutorial.ts [--repository URL]
//
//   # dry run with the test agent (same DAG, shell prompts that stand in for each stage):
//   ... examples/python-tutorial.ts --dry-run
//
// Without --repository the sessions share an empty repository (Hub's empty base commit); with one (an
// https URL, or a local path under the runner's HUB_LOCAL_REPOSITORY_ROOTS) they work on it, and
// --publish BRANCH pushes the result there once every session completed.

import { CreateOrchestrationRequestSchema, MAX_WAIT_SECONDS } from '@hub/contracts';
import { HttpHubApi, readText } from '@hub/hub-api';

const CHAPTERS = [
  { name: 'chapter-basics', title: 'Values, variables and types', example: 'print(2 + 3)' },
  { name: 'chapter-control', title: 'Conditions and loops', example: 'print(sum(range(4)))' },
  { name: 'chapter-functions', title: 'Functions and modules', example: 'print(len("tutorial"))' },
];

interface StageSession {
  name: string;
  type: string;
  prompt: string;
  dependsOn: string[];
  image?: string;
  repository?: string;
  timeoutSeconds?: number;
  retries?: number;
}

export interface TutorialOptions {
  dryRun: boolean;
  /** The repository the tutorial is written in; none: an empty one. */
  repository?: string;
  /** Push the result to this branch of the repository once every session completed. */
  publish?: string;
}

/** The DAG as Claude Code would run it: natural-language prompts, the work committed in /workspace. */
export function tutorialOrchestration({ dryRun, repository, publish }: TutorialOptions) {
  const claude = (session: StageSession): StageSession => ({ ...session, image: 'hub/claude-code:latest', timeoutSeconds: 1800, retries: 1 });
  const dry = (session: StageSession, shell: string): StageSession => ({ ...session, prompt: shell, image: 'hub/test-agent:latest' });
  const inRepository = (session: StageSession): StageSession => (repository ? { ...session, repository } : session);
  const stage = (session: StageSession, shell: string) => inRepository(dryRun ? dry(session, shell) : claude(session));

  const outline = stage(
    {
      name: 'outline',
      type: 'analysis',
      dependsOn: [],
      prompt:
        'Plan a beginner Python tutorial in three chapters: ' +
        CHAPTERS.map((c) => `"${c.title}"`).join(', ') +
        '. For each chapter list the concepts, one runnable example and one exercise. Write the outline to tutorial/outline.md.',
    },
    `mkdir -p tutorial && printf '# Outline\\n${CHAPTERS.map((c) => `- ${c.title}`).join('\\n')}\\n' > tutorial/outline.md && echo outlined`,
  );
  const chapters = CHAPTERS.map((chapter) =>
    stage(
      {
        name: chapter.name,
        type: 'implementation',
        dependsOn: ['outline'],
        prompt:
          `Write the chapter "${chapter.title}" of the tutorial following tutorial/outline.md: ` +
          'explanations, one runnable example as its own .py file under tutorial/examples/ (check it runs with python3), ' +
          `one exercise with its solution. Write the chapter to tutorial/${chapter.name}.md.`,
      },
      `grep -q '${chapter.title}' tutorial/outline.md && mkdir -p tutorial/examples && ` +
        `echo '${chapter.example}' > tutorial/examples/${chapter.name}.py && ` +
        `printf '## ${chapter.title}\\n\\n(dry run) see examples/${chapter.name}.py\\n' > tutorial/${chapter.name}.md`,
    ),
  );
  const review = stage(
    {
      name: 'review',
      type: 'review',
      dependsOn: CHAPTERS.map((c) => c.name),
      prompt:
        'Every chapter is in tutorial/ (the work of the chapter sessions, merged). Review them for correctness and ' +
        'consistency with each other, run every example under tutorial/examples/ with python3, fix what is wrong, and ' +
        'assemble the whole tutorial, chapters in order, into tutorial/README.md. Also copy it to /hub/output/tutorial.md.',
    },
    `for c in ${CHAPTERS.map((c) => c.name).join(' ')}; do test -f tutorial/$c.md && test -f tutorial/examples/$c.py || exit 1; done && ` +
      `cat ${CHAPTERS.map((c) => `tutorial/${c.name}.md`).join(' ')} > tutorial/README.md && cp tutorial/README.md /hub/output/tutorial.md && echo reviewed`,
  );
  return {
    name: dryRun ? 'python tutorial (dry run)' : 'python tutorial',
    start: true,
    ...(publish ? { publish: { branch: publish } } : {}),
    sessions: [outline, ...chapters, review],
  };
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main() {
  const dryRun = process.argv.includes('--dry-run');
  const options: TutorialOptions = { dryRun, repository: option('--repository'), publish: option('--publish') };
  const baseUrl = process.env['HUB_URL'] ?? 'http://127.0.0.1:8080';
  const hub = new HttpHubApi({ baseUrl, apiToken: process.env['HUB_API_TOKEN'] ?? '' });
  const { id } = await hub.createOrchestration(CreateOrchestrationRequestSchema.parse(tutorialOrchestration(options)));
  console.log(`orchestration ${id} started; follow it with examples/watch-orchestration.ts ${id}`);
  // Until its result is recorded, a moment after the last session ends (a runner combines the changes).
  let waited = await hub.waitForOrchestration(id, 'result', MAX_WAIT_SECONDS);
  while (!waited.reached) waited = await hub.waitForOrchestration(id, 'result', MAX_WAIT_SECONDS);
  const view = waited.view;
  for (const s of view.sessions) console.log(`${(s.name ?? s.id).padEnd(18)} ${s.status}${s.statusReason ? `  (${s.statusReason})` : ''}`);
  const changes = view.result?.changes;
  if (changes) {
    console.log(`\nresult: ${changes.files} files on ${changes.branch} at ${changes.headCommit.slice(0, 12)}`);
    console.log(await readText(await hub.orchestrationChanges(id)));
    console.log(`take it with git: git fetch ${baseUrl}/git/${id}.git '${changes.branch}'  (user: any, password: the API token)`);
  }
  const publish = view.result?.publish;
  if (publish) console.log(`publish: ${publish.status}${publish.reason ? ` (${publish.reason})` : ''}`);
  process.exit(view.status === 'completed' ? 0 : 1);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
