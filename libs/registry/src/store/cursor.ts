import { badRequest } from '@hub/contracts';

/** A page's cursor: opaque to clients, the `seq` (insertion order) of the last item they saw. */
export function encodeCursor(seq: string): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^s\d{1,19}$/.test(decoded)) throw badRequest('invalid query: cursor is not one this API returned');
  return decoded.slice(1);
}
