export * from './file-audience.ts';
export * from './run.ts';
export * from './background.ts';
export * from './send-proof.ts';
