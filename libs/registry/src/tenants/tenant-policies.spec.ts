import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTenantPolicies, policyOf } from './tenant-policies';

describe("the tenants' settings (HUB_TENANTS, HUB_TENANTS_FILE)", () => {
  it('gives a listed tenant its limit and allow-list, and any other none', () => {
    const policies = loadTenantPolicies({ HUB_TENANTS: '{ "team-a": { "maxConcurrentSessions": 3, "allowedImages": "hub/test-agent:*, busybox" } }' });
    const teamA = policyOf(policies, 'team-a');
    expect(teamA.maxConcurrentSessions).toBe(3);
    expect(teamA.imagePolicy?.allows('hub/test-agent:1.2')).toBe(true);
    expect(teamA.imagePolicy?.allows('busybox')).toBe(true);
    expect(teamA.imagePolicy?.allows('hub/claude-code:latest')).toBe(false);
    expect(policyOf(policies, 'default')).toEqual({ maxConcurrentSessions: null, imagePolicy: null });
    expect(loadTenantPolicies({}).size).toBe(0);
  });

  it('reads them from a file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hub-tenants-')), 'tenants.json');
    writeFileSync(file, JSON.stringify({ ci: { maxConcurrentSessions: 1 } }));
    expect(policyOf(loadTenantPolicies({ HUB_TENANTS_FILE: file }), 'ci').maxConcurrentSessions).toBe(1);
    expect(() => loadTenantPolicies({ HUB_TENANTS_FILE: `${file}.missing` })).toThrow(`HUB_TENANTS_FILE=${file}.missing cannot be read: ENOENT`);
  });

  it('refuses settings that are not valid, naming the variable, the tenant and the field', () => {
    expect(() => loadTenantPolicies({ HUB_TENANTS: '{}', HUB_TENANTS_FILE: '/x' })).toThrow('HUB_TENANTS and HUB_TENANTS_FILE are both set');
    expect(() => loadTenantPolicies({ HUB_TENANTS: '{' })).toThrow('HUB_TENANTS is not valid JSON');
    expect(() => loadTenantPolicies({ HUB_TENANTS: '{ "Team A": {} }' })).toThrow(
      "HUB_TENANTS is not valid: Team A: is not a tenant's name: must be 1-63 lower-case letters",
    );
    expect(() => loadTenantPolicies({ HUB_TENANTS: '{ "a": { "maxConcurrentSessions": 0, "limit": 1 } }' })).toThrow(
      /HUB_TENANTS is not valid: a\.maxConcurrentSessions: .*; a\.limit: is not a known field/,
    );
    expect(() => loadTenantPolicies({ HUB_TENANTS: '{ "a": { "allowedImages": " , " } }' })).toThrow(
      'a.allowedImages: must name at least one image pattern',
    );
    expect(() => loadTenantPolicies({ HUB_TENANTS: '{ "a": { "allowedImages": "docker.io/hub/*" } }' })).toThrow(
      'a.allowedImages: pattern "docker.io/hub/*" could never match',
    );
  });
});
