/** Names and limits of the onsite module, in one place. */

/** The Braze custom event that records that a visitor saw a decided arm. */
export const EXPOSURE_EVENT = 'nextbest_exposure';

/** How long the page waits for a decision before it keeps its default content. */
export const DEFAULT_DECIDE_TIMEOUT_MS = 800;

/** Upper bound for `timeoutMs`: past this, a visitor has long seen the default content. */
export const MAX_DECIDE_TIMEOUT_MS = 10_000;

/**
 * How long `renderOnsiteContent` waits for the Braze SDK to confirm its flush. The SDK's XHR has
 * no timeout of its own, so without this bound a stalled Braze endpoint would keep the promise
 * open forever. The content is already on screen by then; only the returned outcome waits.
 */
export const FLUSH_WAIT_MS = 10_000;

/** Marks an element as a slot; its value is the agent dimension it shows (`content_block`). */
export const SLOT_ATTRIBUTE = 'data-nextbest-slot';

/** On a `<template>` inside a slot: the arm id the template is the approved markup of. */
export const ARM_ATTRIBUTE = 'data-arm';

/** Set on a slot by the module: `pending` while deciding, then `decided` or `default`. CSS can hide pending slots. */
export const STATE_ATTRIBUTE = 'data-nextbest-state';

/** Set on a decided slot: the arm shown and the decision it came from. */
export const SHOWN_ARM_ATTRIBUTE = 'data-nextbest-arm';
export const DECISION_ATTRIBUTE = 'data-nextbest-decision-id';

/** Dispatched (bubbling) on each slot once it shows its final content. */
export const RENDER_EVENT = 'nextbest:render';

/** The attribute suffixes the decide response uses (`<prefix>decision_id`, `<prefix><dimension>_text`). */
export const DECISION_ID_ATTRIBUTE_SUFFIX = 'decision_id';
export const TEXT_ATTRIBUTE_SUFFIX = '_text';

/** The prefix of the agent attributes when the response does not reveal its own. */
export const DEFAULT_ATTRIBUTE_PREFIX = 'nb_';

/** Every `public`-scope key starts with this (plugin/server/keys.ts); admin and decide keys never belong in a web page. */
export const PUBLIC_KEY_PREFIX = 'nb_pk_';
