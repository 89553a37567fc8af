export * from './dashboard.router';
