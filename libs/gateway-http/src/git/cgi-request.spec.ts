import type { IncomingMessage } from 'node:http';
import { cgiEnvironment, gitProtocolOf } from './cgi-request';

const request = (method: string, headers: Record<string, string>) =>
  ({ method, headers, httpVersion: '1.1', socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;

const target = { projectRoot: '/state/git', pathInfo: '/x.git/git-upload-pack', queryString: '' };

describe('CGI environment of a git request', () => {
  it('holds the CGI variables http-backend reads, the length of the body as read, and its encoding', () => {
    const env = cgiEnvironment(
      request('POST', {
        'content-type': 'application/x-git-upload-pack-request',
        'content-length': '999',
        'content-encoding': 'gzip',
        'git-protocol': 'version=2',
        authorization: 'Basic eDp0b2tlbg==',
        cookie: 'a=b',
      }),
      target,
      120,
    );
    expect(env).toEqual({
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REQUEST_METHOD: 'POST',
      GIT_PROJECT_ROOT: '/state/git',
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_HTTP_MAX_REQUEST_BUFFER: String(64 * 1024 * 1024),
      PATH_INFO: '/x.git/git-upload-pack',
      QUERY_STRING: '',
      CONTENT_TYPE: 'application/x-git-upload-pack-request',
      CONTENT_LENGTH: '120',
      HTTP_CONTENT_ENCODING: 'gzip',
      GIT_PROTOCOL: 'version=2',
      REMOTE_ADDR: '127.0.0.1',
    });
  });

  it('gives no variable for a header that was not sent, and never the credentials', () => {
    const env = cgiEnvironment(request('GET', { authorization: 'Bearer secret' }), { ...target, queryString: 'service=git-upload-pack' }, 0);
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(['CONTENT_LENGTH']));
    expect(env).not.toHaveProperty('HTTP_CONTENT_ENCODING');
    expect(env).not.toHaveProperty('GIT_PROTOCOL');
    expect(JSON.stringify(env)).not.toContain('secret');
    expect(env['CONTENT_TYPE']).toBe('');
  });

  it('passes Git-Protocol on only when it reads as git writes it', () => {
    expect(gitProtocolOf('version=2')).toBe('version=2');
    expect(gitProtocolOf('version=2:object-format=sha256')).toBe('version=2:object-format=sha256');
    expect(gitProtocolOf('version=2\u0000x')).toBeUndefined();
    expect(gitProtocolOf('version=2 ; rm')).toBeUndefined();
    expect(gitProtocolOf(`version=${'2'.repeat(300)}`)).toBeUndefined();
    expect(gitProtocolOf(undefined)).toBeUndefined();
  });
});
