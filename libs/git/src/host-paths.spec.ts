import { HIDDEN_HOST_DIR, withoutHostPaths } from './host-paths';

describe('withoutHostPaths', () => {
  const attemptOutput = '/var/lib/hub/sessions/s1/attempt-2/output';

  it('names a mounted directory as the container sees it, and hides any other host directory', () => {
    const message = `EACCES: permission denied, open '${attemptOutput}/a/b.txt' (data in /var/lib/hub/sessions/s1)`;
    expect(withoutHostPaths(message, [{ hostDir: attemptOutput, shownAs: '/hub/output' }, '/var/lib/hub'])).toBe(
      `EACCES: permission denied, open '/hub/output/a/b.txt' (data in ${HIDDEN_HOST_DIR}/sessions/s1)`,
    );
  });

  it('replaces the longest first, whatever order they are given in, and every occurrence', () => {
    const message = `${attemptOutput} and ${attemptOutput}/x and /var/lib/hub`;
    expect(withoutHostPaths(message, ['/var/lib/hub/', { hostDir: attemptOutput, shownAs: '/hub/output' }])).toBe(
      '/hub/output and /hub/output/x and <runner>',
    );
  });

  it('hides a host directory even as the prefix of a longer name', () => {
    expect(withoutHostPaths('see /data/hub-old/x', ['/data/hub'])).toBe('see <runner>-old/x');
  });

  it('ignores / and empty directories, which would hide every path', () => {
    expect(withoutHostPaths('/etc/passwd', ['/', ''])).toBe('/etc/passwd');
  });
});
