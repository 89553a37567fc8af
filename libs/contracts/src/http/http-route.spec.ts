import { z } from 'zod';
import { HTTP_ROUTES } from './http-routes';
import { type HttpRoute, pathOf, queryStringOf } from './http-route';
import { openApiDocument } from './openapi-document';

describe('a route of the catalog, as a client calls it', () => {
  it('fills in its path, each parameter percent-encoded, the spanning one segment by segment', () => {
    expect(pathOf(HTTP_ROUTES.getSession, { id: 'a/b c' })).toBe('/api/v1/sessions/a%2Fb%20c');
    expect(pathOf(HTTP_ROUTES.readOutputFile, { id: 'x', path: 'dir/a b#.txt' })).toBe('/api/v1/sessions/x/output/files/dir/a%20b%23.txt');
    expect(() => pathOf(HTTP_ROUTES.getSession, {})).toThrow('GET /api/v1/sessions/{id}: no value for {id}');
  });

  it('writes its query from the given values only, a list as its items joined by commas', () => {
    expect(queryStringOf({ status: ['running', 'failed'], limit: 2, cursor: undefined })).toBe('?status=running%2Cfailed&limit=2');
    expect(queryStringOf({})).toBe('');
  });
});

describe('the OpenAPI document of a catalog', () => {
  const route = (overrides: Partial<HttpRoute>): HttpRoute => ({
    method: 'get',
    path: '/x/{id}',
    tag: 'sessions',
    summary: 'x',
    auth: 'bearer',
    params: { id: z.string() },
    responses: { 200: { description: 'ok' } },
    ...overrides,
  });

  it('refuses a route that leaves a path parameter without a schema, or one described twice', () => {
    expect(() => openApiDocument({ x: route({ params: {} }) })).toThrow('GET /x/{id}: no schema for {id}');
    expect(() => openApiDocument({ x: route({}), y: route({}) })).toThrow('GET /x/{id} is described twice');
  });

  it("adds the refusals a route shares with its kind: the token, the key's scope, the tenant's rate, the JSON body limits, invalid input", () => {
    const post = route({ method: 'post', body: { json: z.object({ a: z.string() }) } });
    const { paths } = openApiDocument({ x: post, get: route({ path: '/get/{id}' }), open: route({ path: '/open', params: undefined, auth: 'none' }) });
    expect(Object.keys(paths['/x/{id}']['post']['responses'] as object)).toEqual(['200', '400', '401', '403', '413', '415', '429', 'default']);
    expect(Object.keys(paths['/get/{id}']['get']['responses'] as object)).toEqual(['200', '400', '401', '429', 'default']);
    expect(Object.keys(paths['/open']['get']['responses'] as object)).toEqual(['200', 'default']);
  });

  it('names the scope each route needs (x-hub-scope), and says it', () => {
    const { paths } = openApiDocument({ x: route({ method: 'post' }), y: route({ path: '/y/{id}', scope: 'admin' }), open: route({ path: '/open', params: undefined, auth: 'none' }) });
    expect(paths['/x/{id}']['post']).toMatchObject({ 'x-hub-scope': 'write', description: 'Needs a key of scope `write` or more.' });
    expect(paths['/y/{id}']['get']).toMatchObject({ 'x-hub-scope': 'admin', description: 'Needs a key of scope `admin`.' });
    expect(paths['/open']['get']).not.toHaveProperty('x-hub-scope');
  });
});
