import { filtersFromSearch, isFiltered, listQueryOf, searchOf } from './session-filters';

describe('the sessions list filters in the URL', () => {
  const orchestration = '0b9c8a0e-5d1c-4c53-9a51-1f0c1b7e4a11';

  it('read back as they were written, defaults left out of the URL', () => {
    const filters = { status: 'failed', type: 'analysis', orchestrationId: orchestration, q: 'api tests', limit: 25, cursor: 'AAAB' } as const;
    const search = searchOf(filters);
    expect(search).toBe(`?status=failed&type=analysis&orchestration=${orchestration}&q=api+tests&limit=25&cursor=AAAB`);
    expect(filtersFromSearch(search)).toEqual(filters);
    expect(searchOf({ limit: 50 })).toBe('');
    expect(filtersFromSearch('')).toEqual({ limit: 50 });
  });

  it('leave out what the API would refuse, and keep the rest', () => {
    const read = filtersFromSearch(`?status=nope&type=Bad Type&orchestration=123&q=${'x'.repeat(201)}&limit=7&cursor=a/b`);
    expect(read).toEqual({ limit: 50 });
    expect(filtersFromSearch('?q=a%0Ab').q).toBeUndefined();
    expect(filtersFromSearch(`?orchestration=${orchestration.toUpperCase()}&q=%20%20ok%20`)).toEqual({ orchestrationId: orchestration, q: 'ok', limit: 50 });
  });

  it("ask the API for the same, and say whether they narrow the list", () => {
    const filters = filtersFromSearch('?status=running&q=deploy&limit=100');
    expect(listQueryOf(filters)).toEqual({ status: 'running', q: 'deploy', limit: 100, type: undefined, orchestrationId: undefined, cursor: undefined });
    expect(isFiltered(filters)).toBe(true);
    expect(isFiltered(filtersFromSearch('?limit=100&cursor=AA'))).toBe(false);
  });
});
