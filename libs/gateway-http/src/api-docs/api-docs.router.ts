import { dirname, join } from 'node:path';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { API_DOCS_PATH, OPENAPI_DOCUMENT_PATH } from '@hub/contracts';
import { hubOpenApiDocument } from './hub-openapi-document';

/** Swagger UI's files, from the swagger-ui-dist package in node_modules: the page loads nothing from elsewhere. */
const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);
const INITIALIZER = 'hub-docs.js';

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Hub API</title>
  <link rel="stylesheet" href="${API_DOCS_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="${API_DOCS_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${API_DOCS_PATH}/swagger-ui-bundle.js"></script>
  <script src="${API_DOCS_PATH}/${INITIALIZER}"></script>
</body>
</html>
`;

const initializer = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(OPENAPI_DOCUMENT_PATH)},
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: false,
});
`;

/** Scripts and styles from this origin only (Swagger UI sets inline styles); requests ("try it out") to it only. */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'";

/**
 * `GET /api/openapi.json` (the OpenAPI 3.1 document, built once from the contracts) and `GET /api/docs`
 * (Swagger UI rendering it), mounted by createGatewayHttpApp outside /api/v1: neither needs the token,
 * since neither holds any data, only the API's description.
 */
export function apiDocsRouter(): Router {
  const document = JSON.stringify(hubOpenApiDocument());
  const router = Router({ caseSensitive: true });
  router.get(OPENAPI_DOCUMENT_PATH, (_req: Request, res: Response) => {
    res.type('application/json').set('cache-control', 'no-cache').send(document);
  });
  router.get(API_DOCS_PATH, (_req: Request, res: Response) => {
    res.type('text/html').set('content-security-policy', PAGE_POLICY).send(page);
  });
  // The page's own files: not routes of the API.
  router.use(API_DOCS_PATH, (req: Request, res: Response, next: NextFunction) => {
    const file = req.path.slice(1);
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (file === INITIALIZER) return void res.type('text/javascript').send(initializer);
    if (!SWAGGER_UI_FILES.has(file)) return next();
    res.sendFile(join(SWAGGER_UI_DIR, file), { maxAge: '1d' });
  });
  return router;
}
