// What the stack costs when it waits for work: the time startHubStack takes (PostgreSQL, NATS and the
// four compiled services until each says it is ready), then, after one session and a minute idle,
// each service's resident memory: RSS (what `ps` shows; it counts node's own binary, ~48 MB shared
// by the four, once per process) and PSS (the shared pages divided among the processes that map
// them: what the four really add to the machine). Prints figures; asserts nothing.
//
//   npm run bench -- idle        (IDLE_SECONDS=60 by default)
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { HUB_SERVICES, makeTempDir, startHubStack } from '@hub/infra';

const IDLE_SECONDS = Number(process.env['IDLE_SECONDS'] ?? 60);
const root = resolve(__dirname, '..');

/** Rss and Pss of a process, in MB, from /proc/<pid>/smaps_rollup. */
function memoryOf(pid: number): { rss: number; pss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN) / 1024;
  return { rss: field('Rss'), pss: field('Pss') };
}

async function main() {
  const stateDir = await makeTempDir('hub-bench-idle');
  const token = randomBytes(16).toString('hex');
  const began = performance.now();
  const stack = await startHubStack({ workspaceRoot: root, stateDir, durable: false, apiToken: token });
  const startMs = performance.now() - began;
  try {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${stack.gatewayUrl}/api/v1/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'analysis', prompt: 'true', start: true }),
    });
    if (!created.ok) throw new Error(`the session was refused: ${created.status} ${await created.text()}`);
    const { id } = (await created.json()) as { id: string };
    const ended = await fetch(`${stack.gatewayUrl}/api/v1/sessions/${id}?wait=terminal&timeoutSeconds=60`, { headers });
    console.log(`one session: ${((await ended.json()) as { status: string }).status}`);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    console.log(`\nstack start (PostgreSQL, NATS, four services ready): ${(startMs / 1000).toFixed(1)} s`);
    console.log(`after one session and ${IDLE_SECONDS} s idle:\n`);
    let rss = 0;
    let pss = 0;
    for (const name of HUB_SERVICES) {
      const memory = memoryOf(stack.services[name].pid!);
      rss += memory.rss;
      pss += memory.pss;
      console.log(`  ${name.padEnd(20)} RSS ${memory.rss.toFixed(0).padStart(4)} MB   PSS ${memory.pss.toFixed(0).padStart(4)} MB`);
    }
    console.log(`  ${'the four'.padEnd(20)} RSS ${rss.toFixed(0).padStart(4)} MB   PSS ${pss.toFixed(0).padStart(4)} MB`);
  } finally {
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
