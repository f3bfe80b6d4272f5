/**
 * `ab evaluate --apply`: act on a decision through the registry transitions (journalled, idempotent)
 * and reset the shares. `continue` changes nothing, except that a watch that has run its course ends.
 */
import { endWatch, promote, reject, rollback, type PromotionDeps } from '../registry/index.js';
import type { AbEvaluation, AppliedResult } from './evaluation.js';

export async function applyDecision(deps: PromotionDeps, evaluation: AbEvaluation): Promise<AppliedResult> {
  const runId = evaluation.mlflow_run_id;
  const watch = evaluation.watch;
  if (watch) {
    if (evaluation.decision === 'rollback') {
      // --from makes it idempotent: a retry after the rollback happened does nothing more.
      const done = await rollback(deps, { from: watch.version, reason: evaluation.reason });
      return { action: done.transition ? 'rolled-back' : 'none', message: done.message, steps: done.steps };
    }
    if (watch.ends) {
      const steps = await endWatch(deps);
      return { action: steps.length > 0 ? 'watch-ended' : 'none', message: `the watch of version ${watch.version} ended; version ${watch.previous} no longer predicts in shadow`, steps };
    }
    return { action: 'none', message: 'the watch continues: nothing changed', steps: [] };
  }
  const staging = evaluation.variants.B.version;
  if (evaluation.decision === 'continue' || staging === null) {
    return { action: 'none', message: 'decision is continue: nothing changed', steps: [] };
  }
  if (evaluation.decision === 'promote') {
    const done = await promote(deps, { version: staging, decision: 'promoted', reason: evaluation.reason, runId });
    return { action: done.transition ? 'promoted' : 'none', message: done.message, steps: done.steps };
  }
  const done = await reject(deps, { version: staging, reason: evaluation.reason, runId });
  return { action: done.transition ? 'rejected' : 'none', message: done.message, steps: done.steps };
}
