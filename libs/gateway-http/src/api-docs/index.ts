export * from './api-docs.router';
export * from './hub-openapi-document';
