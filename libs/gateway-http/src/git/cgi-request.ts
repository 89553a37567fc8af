import type { IncomingMessage } from 'node:http';

/** What `git http-backend` is to serve: a path under its project root, and the query it may see. */
export interface GitCgiTarget {
  /** The directory of the repositories (GIT_PROJECT_ROOT), absolute. */
  projectRoot: string;
  /** `/<name>.git/info/refs` or `/<name>.git/git-upload-pack`, already checked by the caller. */
  pathInfo: string;
  /** `service=git-upload-pack`, or empty: never the client's query as it came. */
  queryString: string;
}

/**
 * How much of a request body http-backend holds, inflated (it refuses more with a 500): above the
 * gateway's own limit on the body as it comes (MAX_GIT_REQUEST_BYTES), so that a gzip body of any
 * reasonable ratio fits and a plain one meets the gateway's 413 first.
 */
const MAX_INFLATED_REQUEST_BYTES = 64 * 1024 * 1024;

/** git's `Git-Protocol` header (`version=2`, `key=value:key2`): passed on only when it looks like that. */
const GIT_PROTOCOL = /^[A-Za-z0-9._-]+(=[A-Za-z0-9._-]*)?(:[A-Za-z0-9._-]+(=[A-Za-z0-9._-]*)?)*$/;
const MAX_GIT_PROTOCOL_LENGTH = 256;

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The CGI variables (RFC 3875) `git http-backend` needs for one request, whose body (read whole
 * already) is `bodyLength` bytes as it came, and nothing else of the gateway's environment
 * (spawnHostGit adds its clean PATH, HOME, GIT_CONFIG_NOSYSTEM...). Every repository under the
 * root is exported (the gateway decides which may be reached); the body's Content-Encoding is
 * passed as HTTP_CONTENT_ENCODING so that http-backend inflates a gzip request.
 */
export function cgiEnvironment(req: IncomingMessage, target: GitCgiTarget, bodyLength: number): Record<string, string> {
  const optional: Record<string, string | undefined> = {
    CONTENT_LENGTH: bodyLength > 0 ? String(bodyLength) : undefined,
    HTTP_CONTENT_ENCODING: header(req, 'content-encoding'),
    GIT_PROTOCOL: gitProtocolOf(header(req, 'git-protocol')),
  };
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    GIT_PROJECT_ROOT: target.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_HTTP_MAX_REQUEST_BUFFER: String(MAX_INFLATED_REQUEST_BYTES),
    PATH_INFO: target.pathInfo,
    QUERY_STRING: target.queryString,
    CONTENT_TYPE: header(req, 'content-type') ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '',
    ...Object.fromEntries(Object.entries(optional).filter((entry): entry is [string, string] => entry[1] !== undefined)),
  };
}

export function gitProtocolOf(value: string | undefined): string | undefined {
  return value && value.length <= MAX_GIT_PROTOCOL_LENGTH && GIT_PROTOCOL.test(value) ? value : undefined;
}
