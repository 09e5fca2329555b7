/// <reference lib="dom" />
// Named imports, not `import * as`: a namespace used as a value keeps the whole SDK (700 KiB) in the bundle.
import { changeUser, initialize, logCustomEvent, openSession, requestImmediateDataFlush } from '@braze/web-sdk';
import { DECISION_ID_ATTRIBUTE_SUFFIX, DEFAULT_ATTRIBUTE_PREFIX, TEXT_ATTRIBUTE_SUFFIX } from './constants.ts';
import {
  browserTimezone,
  decideBody,
  requestDecision,
  type DecisionAnswer,
  type DecisionFailure,
  type FetchFunction,
  type OnsiteDecision,
} from './decide.ts';
import { recordExposures, type BrazeExposureSdk, type ExposureRecord } from './exposure.ts';
import { parseOnsiteOptions, type OnsiteOptions, type OnsiteOptionsInput } from './options.ts';
import { findSlots, markPending, showArm, showDefault, type SlotRender } from './slots.ts';

/** What the page has; each part may be replaced (a page that already loads Braze passes its own SDK). */
export interface OnsiteEnvironment {
  /** Where slots are looked for. Default: `document`. */
  root?: ParentNode;
  /** Default: the page's `fetch`. */
  fetch?: FetchFunction;
  /** Default: the `@braze/web-sdk` bundled with this module. */
  braze?: BrazeExposureSdk;
}

/** What one render call did, for the page's own analytics and for tests. */
export interface RenderOutcome {
  /** `decision` when a decision was shown in at least one slot, else `default`. */
  source: 'decision' | 'default';
  decisionId?: string;
  /** The decision's reason (`explore`, `exploit`, `holdout`, `guardrail`, …) when there was one. */
  reason?: string;
  /** Set when nextbest could not be asked or did not answer usefully. */
  failure?: DecisionFailure;
  slots: SlotRender[];
  exposures: ExposureRecord[];
}

/** The bundled Braze Web SDK, reduced to the calls the module makes. */
const bundledBraze: BrazeExposureSdk = {
  initialize,
  changeUser,
  openSession,
  logCustomEvent,
  requestImmediateDataFlush,
};

// One decision per (server, agent, visitor) per page view: a second render call reuses it (and
// its requestId, so even a retry after a lost answer gets the same decision from the server).
const decisions = new Map<string, Promise<DecisionAnswer>>();
const requestIds = new Map<string, string>();

/**
 * Fills the page's `data-nextbest-slot` elements from a nextbest decision and records in Braze
 * that the visitor saw the chosen arms. Fails open: whatever goes wrong on the way to the
 * decision, the slots keep the default content the page wrote and nothing is recorded.
 *
 * Throws only for invalid options (an `OnsiteConfigError` naming each bad one).
 */
export async function renderOnsiteContent(
  input: OnsiteOptionsInput,
  environment: OnsiteEnvironment = {},
): Promise<RenderOutcome> {
  const options = parseOnsiteOptions(input);
  const root = environment.root ?? document;
  const slots = findSlots(root);
  markPending(slots);

  const answer = await decisionFor(options, environment.fetch ?? ((url, init) => fetch(url, init)));
  if (!answer.ok || !answer.decision.deliver) {
    return {
      source: 'default',
      ...(answer.ok
        ? { decisionId: answer.decision.decisionId, reason: answer.decision.reason }
        : { failure: answer.failure }),
      slots: slots.map((s) => showDefault(s.element, s.dimension)),
      exposures: [],
    };
  }

  const decision = answer.decision;
  const prefix = attributePrefix(decision);
  const rendered = slots.map((s) => {
    const choice = decision.choices[s.dimension];
    if (!choice) return showDefault(s.element, s.dimension);
    const text = decision.attributes[`${prefix}${s.dimension}${TEXT_ATTRIBUTE_SUFFIX}`];
    return showArm(
      s.element,
      s.dimension,
      choice.arm,
      decision.decisionId,
      typeof text === 'string' ? text : undefined,
    );
  });
  const shown = new Map<string, string>();
  for (const r of rendered) if (r.content !== 'default' && r.arm !== undefined) shown.set(r.dimension, r.arm);

  const exposures =
    shown.size === 0
      ? []
      : await recordExposures(
          environment.braze ?? bundledBraze,
          options,
          decision.decisionId,
          [...shown].map(([dimension, arm]) => ({ dimension, arm })),
        );
  return {
    source: shown.size > 0 ? 'decision' : 'default',
    decisionId: decision.decisionId,
    reason: decision.reason,
    slots: rendered,
    exposures,
  };
}

/**
 * The page view's decision: asked once, shared by later calls. A failed attempt is forgotten so
 * a later call may try again (with the same requestId, so the server cannot decide twice).
 */
function decisionFor(options: OnsiteOptions, fetchFn: FetchFunction): Promise<DecisionAnswer> {
  const key = `${options.nextbestUrl}\u0000${options.agentId}\u0000${options.userId}`;
  const cached = decisions.get(key);
  if (cached) return cached;
  let requestId = options.requestId ?? requestIds.get(key);
  if (requestId === undefined) {
    requestId = pageViewId();
    requestIds.set(key, requestId);
  }
  const pending = requestDecision(
    options,
    decideBody(options, requestId, location.pathname, browserTimezone()),
    fetchFn,
  );
  decisions.set(key, pending);
  void pending.then((a) => {
    if (!a.ok && decisions.get(key) === pending) decisions.delete(key);
  });
  return pending;
}

/** `<prefix>` of the response's attributes, read off `<prefix>decision_id` (the agent's delivery prefix, `nb_` by default). */
function attributePrefix(decision: OnsiteDecision): string {
  for (const [name, value] of Object.entries(decision.attributes)) {
    if (value === decision.decisionId && name.endsWith(DECISION_ID_ATTRIBUTE_SUFFIX))
      return name.slice(0, -DECISION_ID_ATTRIBUTE_SUFFIX.length);
  }
  return DEFAULT_ATTRIBUTE_PREFIX;
}

/**
 * A random id for this page view's decision request. `crypto.randomUUID` exists only in secure
 * contexts (https, localhost); `getRandomValues` everywhere.
 */
function pageViewId(): string {
  if (typeof crypto.randomUUID === 'function') return `pv-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `pv-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
