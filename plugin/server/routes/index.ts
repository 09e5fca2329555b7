export * from './context.ts';
export * from './admin.ts';
export * from './agents.ts';
export * from './decisions.ts';
export * from './events.ts';
export * from './operations.ts';
export * from './runs.ts';
