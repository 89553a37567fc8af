import { Client } from 'pg';
import { quoteIdentifier } from './postgres-cluster';

/** Url of database `name` on the same server, user and options as `url`. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/**
 * Creates a fresh, empty database `name` on the server `url` points at (dropping any database of
 * that name first, disconnecting its sessions) and returns its url. For test isolation: one
 * database per test file or suite on one shared cluster.
 */
export async function createDatabase(url: string, name: string): Promise<string> {
  await withClient(url, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
  });
  return databaseUrl(url, name);
}

/** Drops database `name` (if it exists) on the server `url` points at, disconnecting its sessions. */
export async function dropDatabase(url: string, name: string): Promise<void> {
  await withClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`));
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  // Connect to the maintenance database: one cannot drop the database one is connected to.
  const client = new Client({ connectionString: databaseUrl(url, 'postgres') });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
