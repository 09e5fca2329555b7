export * from './report.ts';
export * from './run.ts';
export * from './scenarios.ts';
export * from './world.ts';
