export * from './dag';
export * from './faults';
export * from './fault-run';
export * from './observe';
export * from './random';
export * from './verify';
