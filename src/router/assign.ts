/**
 * A/B assignment: a pure function of the user id, the seed and the split. The hash carries a
 * version, so a change of algorithm is a new version and never moves users silently.
 */
import { createHash } from 'node:crypto';
import type { Variant } from '../prediction-log/index.js';

export type { Variant } from '../prediction-log/index.js';

/** The hash used by this router; logged and reported by /ab and /metrics. */
export const ASSIGNMENT_HASH_VERSION = 1;
export const ASSIGNMENT_HASH_VERSIONS = [1] as const;

const TWO_POW_20 = 2 ** 20;
const TWO_POW_52 = 2 ** 52;

/**
 * v1: the first 52 bits of sha256("1:<seed>:<user_id>") (UTF-8) over 2^52, uniform in [0, 1).
 * 52 bits are exactly representable in a double, so every platform computes the same bucket.
 */
export function assignmentBucket(userId: string, seed: string, hashVersion: number = ASSIGNMENT_HASH_VERSION): number {
  if (hashVersion !== 1) throw new RangeError(`expected an assignment hash version in ${ASSIGNMENT_HASH_VERSIONS.join(', ')}, got ${hashVersion}`);
  const digest = createHash('sha256').update(`${hashVersion}:${seed}:${userId}`, 'utf8').digest();
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 12;
  return (high * TWO_POW_20 + low) / TWO_POW_52;
}

export interface AssignmentRule {
  /** Share of users sent to B, in [0, 1]. */
  splitB: number;
  seed: string;
  /** False when there is no staging model to send anyone to. */
  stagingAvailable: boolean;
  hashVersion?: number;
}

/**
 * B iff bucket < splitB. Monotone in the split: raising it only moves users from A to B, and a
 * user's variant never changes while the split is unchanged.
 */
export function assignVariant(userId: string, rule: AssignmentRule): Variant {
  if (!rule.stagingAvailable || rule.splitB <= 0) return 'A';
  if (rule.splitB >= 1) return 'B';
  return assignmentBucket(userId, rule.seed, rule.hashVersion) < rule.splitB ? 'B' : 'A';
}

/** The seed of shadow selection: fixed, so the log alone tells which requests a share picks. */
export const SHADOW_SEED = 'shadow';

/**
 * Whether a request prod answered is also predicted by the shadow (router.shadow_share): the request,
 * not the user, is the unit, by the same versioned bucket of its id, so a given request id is picked
 * or not for good, and raising the share only adds requests.
 */
export function shadowChosen(requestId: string, share: number, hashVersion: number = ASSIGNMENT_HASH_VERSION): boolean {
  if (share <= 0) return false;
  if (share >= 1) return true;
  return assignmentBucket(requestId, SHADOW_SEED, hashVersion) < share;
}
