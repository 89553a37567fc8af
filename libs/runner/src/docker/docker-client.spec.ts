import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerOptions } from './docker-client';

describe('dockerOptions', () => {
  let certs: string;

  beforeAll(async () => {
    certs = await mkdtemp(join(tmpdir(), 'docker-certs-'));
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(certs, file), `${file} content`);
  });

  afterAll(() => rm(certs, { recursive: true, force: true }));

  it('reads unix sockets, bare paths and the default socket', () => {
    expect(dockerOptions()).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerOptions('unix:///tmp/engine-b/docker.sock')).toEqual({ socketPath: '/tmp/engine-b/docker.sock' });
    expect(dockerOptions('/tmp/engine-b/docker.sock')).toEqual({ socketPath: '/tmp/engine-b/docker.sock' });
  });

  it('speaks plain HTTP to tcp:// without DOCKER_TLS_VERIFY', () => {
    expect(dockerOptions('tcp://10.0.0.5:2375')).toEqual({ protocol: 'http', host: '10.0.0.5', port: 2375 });
    expect(dockerOptions('tcp://10.0.0.5:2375', { tlsVerify: '0', certPath: certs })).toMatchObject({ protocol: 'http' });
  });

  it('speaks TLS with DOCKER_TLS_VERIFY=1, or on port 2376, with the certificates of DOCKER_CERT_PATH', () => {
    const options = dockerOptions('tcp://runner-b.internal:2376', { certPath: certs });
    expect(options).toMatchObject({ protocol: 'https', host: 'runner-b.internal', port: 2376 });
    expect(options.ca?.toString()).toBe('ca.pem content');
    expect(options.cert?.toString()).toBe('cert.pem content');
    expect(options.key?.toString()).toBe('key.pem content');
    expect(dockerOptions('tcp://runner-b.internal:9999', { tlsVerify: '1', certPath: certs })).toMatchObject({ protocol: 'https', port: 9999 });
  });

  it('names the file and the variable when a certificate cannot be read', () => {
    expect(() => dockerOptions('tcp://runner-b.internal:2376', { certPath: join(certs, 'nowhere') })).toThrow(
      /DOCKER_HOST=tcp:\/\/runner-b.internal:2376 with TLS: cannot read .*nowhere\/ca.pem \(DOCKER_CERT_PATH\)/,
    );
  });

  it('refuses other schemes', () => {
    expect(() => dockerOptions('ssh://runner-b')).toThrow(/is not supported/);
  });
});
