export * from './cgi-request';
export * from './cgi-response';
export * from './git-http-backend';
export * from './git-smart-http';
export * from './orchestration-repositories';
export * from './repository-name';
