export * from './host-git';
export * from './host-paths';
