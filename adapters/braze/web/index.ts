/**
 * nextbest onsite content for the browser: decide with a public key, show the chosen approved
 * variant in `data-nextbest-slot` elements, record the exposure in Braze. See docs/braze-web.md.
 */
export { renderOnsiteContent, type OnsiteEnvironment, type RenderOutcome } from './onsite.ts';
export { onsiteOptionsSchema, parseOnsiteOptions, type OnsiteOptions, type OnsiteOptionsInput } from './options.ts';
export { OnsiteConfigError } from './errors.ts';
export { decideResponseSchema, type DecisionFailure, type OnsiteDecision } from './decide.ts';
export { EXPOSURE_EVENT, RENDER_EVENT, SLOT_ATTRIBUTE, DEFAULT_DECIDE_TIMEOUT_MS } from './constants.ts';
export type { ExposureRecord, ExposureStatus, ExposureProperties, BrazeExposureSdk } from './exposure.ts';
export type { SlotRender, SlotContent, RenderEventDetail } from './slots.ts';
