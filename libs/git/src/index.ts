export * from './host-git';
export * from './host-paths';
export * from './fetch-from-bundle';
