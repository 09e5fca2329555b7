#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so `npx nextbest …` works with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../plugin/cli.ts');
