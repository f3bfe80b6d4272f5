import path from 'node:path';
import { UsageError } from '../../errors.js';
import { train, type Trigger } from '../../train/train.js';
import { stringOption, type Command } from '../command.js';

const TRIGGERS: Trigger[] = ['drift', 'performance', 'manual', 'schedule'];

const command: Command = {
  summary: 'Retrain with PyCaret AutoML, log to MLflow, register, and point staging (or prod on a fresh install) at it',
  details: [
    'Training data: dataset.reference plus dataset.current when that file exists.',
    'A version whose holdout accuracy is below training.min_holdout_accuracy is registered, tagged',
    'driftgate.gate=rejected, and gets no alias. With --run-id, a retry of the same orchestrator run',
    'reuses the version it registered instead of training again.',
  ].join('\n'),
  options: {
    trigger: { type: 'string', valueName: 'KIND', description: 'why: drift, performance (an estimated accuracy drop), manual (default) or schedule' },
    'run-id': { type: 'string', valueName: 'ID', description: "the orchestrator's run id (Airflow's run_id), for idempotent retries" },
    'drift-report': { type: 'string', valueName: 'DIR', description: 'the drift report folder that triggered this run (logged as artifacts)' },
  },
  async run({ values, config, log, signal }) {
    const trigger = (stringOption(values, 'trigger') ?? 'manual') as Trigger;
    if (!TRIGGERS.includes(trigger)) throw new UsageError(`--trigger: expected one of ${TRIGGERS.join(', ')}, got ${JSON.stringify(trigger)}`);
    const report = stringOption(values, 'drift-report');
    const result = await train(config, {
      trigger,
      orchestratorRunId: stringOption(values, 'run-id') || undefined,
      driftReportDir: report ? path.resolve(report) : undefined,
      log,
      signal,
    });
    const accuracy = result.metrics.holdout.Accuracy;
    return {
      result,
      human: `${result.model_name} version ${result.version} (${result.best_model}, holdout accuracy ${accuracy === undefined ? 'n/a' : accuracy.toFixed(4)}): ${
        result.alias ? `now '${result.alias}'` : 'rejected by the quality gate, no alias'
      }${result.reused ? ' [reused from an earlier attempt of the same run]' : ''}`,
    };
  },
};

export default command;
