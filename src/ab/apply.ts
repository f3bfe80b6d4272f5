/**
 * `ab evaluate --apply`: act on a decision through the registry transitions (journalled, idempotent)
 * and reset the split. `continue` changes nothing.
 */
import { promote, reject, type PromotionDeps } from '../registry/index.js';
import type { AbEvaluation, AppliedResult } from './evaluation.js';

export async function applyDecision(deps: PromotionDeps, evaluation: AbEvaluation): Promise<AppliedResult> {
  const staging = evaluation.variants.B.version;
  if (evaluation.decision === 'continue' || staging === null) {
    return { action: 'none', message: 'decision is continue: nothing changed', steps: [] };
  }
  const runId = evaluation.mlflow_run_id;
  if (evaluation.decision === 'promote') {
    const done = await promote(deps, { version: staging, decision: 'promoted', reason: evaluation.reason, runId });
    return { action: done.transition ? 'promoted' : 'none', message: done.message, steps: done.steps };
  }
  const done = await reject(deps, { version: staging, reason: evaluation.reason, runId });
  return { action: done.transition ? 'rejected' : 'none', message: done.message, steps: done.steps };
}
