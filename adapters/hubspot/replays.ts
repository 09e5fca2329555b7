import { LRUCache } from 'lru-cache';
import { HUBSPOT_SIGNATURE_MAX_AGE_MS, HUBSPOT_WORKFLOW_RETRY_HORIZON_MS } from './constants.ts';

/** Requests each memory holds at most; past that, the least recently seen is forgotten first. */
export const REPLAY_MEMORY_MAX = 100_000;

/** What is remembered of one workflow-action request. */
interface WorkflowActionSeen {
  firstSeenAt: number;
  /** HubSpot got an answer it does not retry (2xx, or a 4xx other than 429). */
  settled: boolean;
}

export interface ReplayGuardOptions {
  clock: () => number;
  max?: number;
  /** The v3 timestamp window (5 minutes). */
  v3WindowMs?: number;
  /** How long HubSpot resends an unanswered workflow request (3 days). */
  retryHorizonMs?: number;
}

/**
 * The signed HubSpot requests already used, so that one captured on the way cannot be sent again.
 *
 * v3: HubSpot signs each delivery afresh (a retry carries a new timestamp, so a new signature): a
 * v3 signature seen twice is a replay. Each is remembered until its timestamp leaves the 5-minute
 * window, after which the signature check refuses it anyway.
 *
 * v2 (workflow actions) has no timestamp: the signature never expires. HubSpot sends the same
 * request again, byte for byte (same callbackId, same signature), only while it has no final
 * answer: after a timeout, a 429 or a 5xx, for up to 3 days. So a workflow-action request is a
 * replay once it was settled (answered 2xx, or a 4xx other than 429), or once 3 days have passed
 * since it was first seen. It is remembered until the memory forgets it (bounded, least recently
 * seen first; a restart forgets everything): a replay of a forgotten request answers the decision
 * already logged for its callbackId, so nothing is decided or counted twice while the log keeps it.
 */
export class ReplayGuard {
  private readonly clock: () => number;
  private readonly v3WindowMs: number;
  private readonly retryHorizonMs: number;
  private readonly v3: LRUCache<string, true>;
  private readonly workflowActions: LRUCache<string, WorkflowActionSeen>;

  constructor(options: ReplayGuardOptions) {
    this.clock = options.clock;
    this.v3WindowMs = options.v3WindowMs ?? HUBSPOT_SIGNATURE_MAX_AGE_MS;
    this.retryHorizonMs = options.retryHorizonMs ?? HUBSPOT_WORKFLOW_RETRY_HORIZON_MS;
    const max = options.max ?? REPLAY_MEMORY_MAX;
    // the cache's expiry reads the same clock as the signature check, to the millisecond
    this.v3 = new LRUCache({ max, ttlResolution: 0, perf: { now: this.clock } });
    this.workflowActions = new LRUCache({ max });
  }

  /** Records a v3 signature until it leaves its window; false when it was used before (a replay). */
  firstUseOfV3(signature: string, timestamp: number): boolean {
    if (this.v3.has(signature)) return false;
    // the check accepts it while now ≤ timestamp + window; the cache drops it when now − set > ttl
    const validFor = timestamp + this.v3WindowMs - this.clock();
    this.v3.set(signature, true, { ttl: Math.max(1, validFor) });
    return true;
  }

  /**
   * Why a v2-signed workflow-action request (known by its v2 signature) is a replay, or undefined
   * when it is HubSpot's first send or one of its retries (then it is remembered as seen).
   */
  workflowActionReplay(requestSignature: string): string | undefined {
    const now = this.clock();
    const seen = this.workflowActions.get(requestSignature);
    if (!seen) {
      this.workflowActions.set(requestSignature, { firstSeenAt: now, settled: false });
      return undefined;
    }
    if (seen.settled) return 'this workflow-action request was already answered';
    if (now - seen.firstSeenAt > this.retryHorizonMs)
      return 'this workflow-action request was first seen longer ago than HubSpot retries one';
    return undefined;
  }

  /** HubSpot got a final answer to this workflow-action request: it does not send it again. */
  workflowActionSettled(requestSignature: string): void {
    const firstSeenAt = this.workflowActions.get(requestSignature)?.firstSeenAt ?? this.clock();
    this.workflowActions.set(requestSignature, { firstSeenAt, settled: true });
  }
}

/** A status HubSpot does not retry a workflow request after: a 2xx, or a 4xx other than 429. */
export function settlesWorkflowRequest(status: number): boolean {
  return status < 500 && status !== 429;
}
