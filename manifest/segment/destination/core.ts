import { createRequire } from 'node:module';
import type * as ActionsCore from '@segment/actions-core';

/**
 * `@segment/actions-core`, loaded through its CommonJS build. Its ES-module build imports named
 * exports from `@segment/destination-subscriptions`, a CommonJS-only package, which Node's
 * ES-module loader cannot link (it is made for bundlers); Segment runs destinations compiled to
 * CommonJS, so this is the build that runs there too. Types still come from the package.
 */
export const actionsCore: typeof ActionsCore = createRequire(import.meta.url)('@segment/actions-core');
