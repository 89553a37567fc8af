import fc, { type Arbitrary } from 'fast-check';
import { auth, extraHeaders, pathVariant, type Body, type HostileContext } from './hostile-envelope';
import { hostile, type Expectations, type HostileRequest } from './hostile-request';
import { sendable } from './hostile-values';

/** Where a request goes and with what body, before auth, stray headers and path spellings are added. */
export interface Target {
  route: string;
  method: string;
  path: string;
  body?: Body;
  /** Content-Type headers for the body (jsonContentType for JSON routes). */
  contentType?: [string, string][];
  /** Headers this route needs (MCP's Accept). */
  headers?: [string, string][];
  expect?: Expectations;
  note: string;
}

/** Wraps targets in hostile envelopes: every token variant, stray and oversized headers, odd path spellings. */
export function envelope(ctx: HostileContext, targets: Arbitrary<Target>, options: { varyPath?: boolean } = {}): Arbitrary<HostileRequest> {
  return targets.chain((target) =>
    fc
      .tuple(auth(ctx.token), extraHeaders, options.varyPath === false ? fc.constant({ path: target.path, note: '' }) : pathVariant(target.path))
      .map(([credentials, extra, variant]) => {
        const body = target.body;
        const bigHeaders = extra.headers.length >= 1000 || extra.headers.some(([, value]) => value.length >= 16 * 1024);
        const isMcp = target.route.includes('/mcp');
        const expect: Expectations = {
          ...target.expect,
          mayReset: target.expect?.mayReset || body?.oversized || bigHeaders,
          mayAnswerEmpty400: isMcp && (extra.hostileHost || /^http:/.test(variant.path)),
        };
        return hostile({
          route: target.route,
          method: target.method,
          path: sendable(variant.path),
          headers: [...credentials.headers, ...(body ? (target.contentType ?? []) : []), ...(body?.headers ?? []), ...(target.headers ?? []), ...extra.headers],
          body: body?.bytes,
          chunks: body?.chunks,
          noHost: extra.noHost,
          authorized: credentials.authorized,
          expect,
          note: [target.note, body?.note, credentials.note, extra.note, variant.note].filter(Boolean).join('; '),
        });
      }),
  );
}
