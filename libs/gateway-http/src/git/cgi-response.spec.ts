import { PassThrough } from 'node:stream';
import { MAX_CGI_HEAD_BYTES, parseCgiHead, readCgiHead, splitCgiHead } from './cgi-response';

describe('CGI response head', () => {
  it('ends at the first empty line, CRLF or LF', () => {
    const crlf = 'Content-Type: a\r\nExpires: x\r\n\r\nbody\r\n\r\nmore';
    expect(splitCgiHead(Buffer.from(crlf))).toEqual({ head: 'Content-Type: a\r\nExpires: x', bodyStart: crlf.indexOf('body') });
    const lf = 'Status: 404 Not Found\n\nNot found\n';
    expect(splitCgiHead(Buffer.from(lf))).toEqual({ head: 'Status: 404 Not Found', bodyStart: lf.indexOf('Not found') });
    expect(splitCgiHead(Buffer.from('Content-Type: a\r\nExpires'))).toBeNull();
  });

  it('takes the status from Status: and passes the other headers on, in order', () => {
    expect(parseCgiHead('Expires: Fri, 01 Jan 1980 00:00:00 GMT\r\nStatus: 403 Forbidden\r\nContent-Type: text/plain')).toEqual({
      status: 403,
      headers: [
        ['Expires', 'Fri, 01 Jan 1980 00:00:00 GMT'],
        ['Content-Type', 'text/plain'],
      ],
    });
  });

  it('is 200 without a status, 302 with only a Location', () => {
    expect(parseCgiHead('Content-Type: application/x-git-upload-pack-advertisement').status).toBe(200);
    expect(parseCgiHead('Location: /elsewhere').status).toBe(302);
    expect(parseCgiHead('status: 500').status).toBe(500);
  });

  it('leaves out what belongs to the connection', () => {
    expect(parseCgiHead('Connection: close\nTransfer-Encoding: chunked\nCache-Control: no-cache').headers).toEqual([['Cache-Control', 'no-cache']]);
  });

  it('refuses a line that is not a header, and a status that is not one', () => {
    expect(() => parseCgiHead('Content-Type: a\nnot a header')).toThrow(/malformed CGI header line: "not a header"/);
    expect(() => parseCgiHead('Bad Name: x')).toThrow(/malformed CGI header line/);
    expect(() => parseCgiHead('')).toThrow(/malformed CGI header line/);
    expect(() => parseCgiHead('Status: 99 Odd')).toThrow(/malformed CGI status: "99 Odd"/);
    expect(() => parseCgiHead('Status: 200OK')).toThrow(/malformed CGI status/);
  });
});

describe('readCgiHead', () => {
  it('reads the head across chunks and gives the body bytes that came with it, the rest left in the stream', async () => {
    const stdout = new PassThrough();
    const read = readCgiHead(stdout);
    stdout.write('Status: 200 OK\r\nContent-Ty');
    stdout.write('pe: x\r\n\r\nfirst ');
    const { head, bodyStart } = await read;
    expect(head).toEqual({ status: 200, headers: [['Content-Type', 'x']] });
    expect(bodyStart.toString()).toBe('first ');
    stdout.end('second');
    const rest: Buffer[] = [];
    for await (const chunk of stdout) rest.push(chunk as Buffer);
    expect(Buffer.concat(rest).toString()).toBe('second');
  });

  it('fails when the output ends before the head is complete', async () => {
    const stdout = new PassThrough();
    const read = readCgiHead(stdout);
    stdout.end('Content-Type: x\r\n');
    await expect(read).rejects.toThrow('the CGI program ended before its head was complete');
  });

  it('fails past MAX_CGI_HEAD_BYTES without an empty line', async () => {
    const stdout = new PassThrough();
    const read = readCgiHead(stdout);
    stdout.write(`X-Long: ${'a'.repeat(MAX_CGI_HEAD_BYTES)}`);
    await expect(read).rejects.toThrow(`the CGI head is larger than ${MAX_CGI_HEAD_BYTES} bytes`);
  });

  it('fails with a malformed head', async () => {
    const stdout = new PassThrough();
    const read = readCgiHead(stdout);
    stdout.write('oops\n\n');
    await expect(read).rejects.toThrow(/malformed CGI header line/);
  });
});
