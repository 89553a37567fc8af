import { Client } from 'pg';

/** Per table: how many rows, and a digest of all of them (any change to any row changes it). */
export type StoredState = Record<string, { rows: number; digest: string }>;

/** The outbox's published_at is set by the relay after the fact; which events exist is what counts. */
const TABLES: Record<string, string> = {
  orchestrations: 'SELECT t::text AS row FROM orchestrations t',
  sessions: 'SELECT t::text AS row FROM sessions t',
  session_dependencies: 'SELECT t::text AS row FROM session_dependencies t',
  session_attempts: 'SELECT t::text AS row FROM session_attempts t',
  outbox: 'SELECT event_id::text AS row FROM outbox',
};

/** Reads what Hub has stored, straight from PostgreSQL (not through the API under test). */
export async function storedState(db: Client): Promise<StoredState> {
  const state: StoredState = {};
  for (const [table, rows] of Object.entries(TABLES)) {
    const { rows: [result] } = await db.query<{ rows: number; digest: string }>(
      `SELECT count(*)::int AS rows, coalesce(md5(string_agg(row, '|' ORDER BY row)), '') AS digest FROM (${rows}) r`,
    );
    state[table] = result;
  }
  return state;
}

/** The stored state once nothing changes any more (the fixture's last updates have landed). */
export async function settledStoredState(db: Client, timeoutMs = 15_000): Promise<StoredState> {
  const deadline = Date.now() + timeoutMs;
  let previous = await storedState(db);
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const current = await storedState(db);
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    if (Date.now() > deadline) throw new Error(`stored state still changing after ${timeoutMs} ms`);
    previous = current;
  }
}
