import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { parseDocument } from 'yaml';
import { dagsTest, DEFAULT_AIRFLOW_HOME, generateDags, type DagRunReport } from '../../airflow/index.js';
import { loadConfig, type Config } from '../../config/index.js';
import { IRIS_DRIFT, makeBatch } from '../../data/drifted.js';
import { readCsv } from '../../data/table.js';
import { DriftgateError } from '../../errors.js';
import { writeFileAtomic } from '../../fs-atomic.js';
import { start as startMlflow, stop as stopMlflow } from '../../mlflow/server.js';
import { runChild } from '../../process/run.js';
import { CLI_BIN, NODE_BIN, STATE_DIR } from '../../project.js';
import { ENVIRONMENTS, ensurePythonEnv } from '../../python/bootstrap.js';
import { connectRegistry, registryState } from '../../registry/index.js';
import { waitForReady } from '../../router/wait-ready.js';
import { sendTraffic, type TrafficResult } from '../../simulate/traffic.js';
import type { Command } from '../command.js';

const DEMO_DIR = path.join(STATE_DIR, 'demo');

/**
 * The demo runs in its own sandbox: a config derived from yours with its own model name, log, drifted
 * batch and DAG folder, so it can start from a clean slate on every run without touching your data.
 */
function writeDemoConfig(config: Config): string {
  const doc = parseDocument(`# Written by driftgate demo from ${config.source.file}; rewritten on every run.\n`);
  const tree = structuredClone({ ...config }) as Record<string, unknown>;
  delete tree.source;
  delete tree.adminToken;
  delete tree.labelToken;
  delete tree.requestKey;
  doc.contents = doc.createNode(tree) as typeof doc.contents;
  const set = (keys: string[], value: unknown): void => void doc.setIn(keys, value);
  set(['dataset', 'current'], path.join(DEMO_DIR, 'iris-drifted.csv'));
  set(['mlflow', 'model_name'], `${config.mlflow.model_name}-demo`);
  set(['mlflow', 'experiment'], `${config.mlflow.experiment}-demo`);
  set(['router', 'log_path'], path.join(DEMO_DIR, 'predictions.csv'));
  set(['router', 'ab_split_b'], 0);
  set(['router', 'registry_poll_s'], 1);
  // The retrained candidate is a heavier model (PyCaret's pick) than the demo's LR prod: up to 3× its latency is accepted here.
  set(['ab', 'guardrails', 'latency_margin'], 3);
  // Live drift looks at the traffic of the last phase only.
  set(['drift', 'log_window'], 300);
  set(['airflow', 'dag_id'], 'driftgate_demo_monitor');
  set(['airflow', 'ab_dag_id'], 'driftgate_demo_ab');
  set(['airflow', 'retry_delay_s'], 5);
  const file = path.join(DEMO_DIR, 'driftgate.yaml');
  writeFileAtomic(file, doc.toString());
  return file;
}

/** An earlier run's log set moves out of the way (into previous/<time>/), so readers never mix it in. */
function keepPreviousLog(logPath: string): void {
  const dir = path.dirname(logPath);
  const base = path.basename(logPath);
  const names = existsSync(dir) ? readdirSync(dir).filter((name) => name === base || name.startsWith(`${base}.`) || name.startsWith(`${base}-`)) : [];
  if (names.length === 0) return;
  const target = path.join(dir, 'previous', new Date().toISOString().replace(/[-:]/g, ''));
  mkdirSync(target, { recursive: true });
  for (const name of names) renameSync(path.join(dir, name), path.join(target, name));
}

async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new DriftgateError('UNAVAILABLE', `timed out waiting for ${what}`);
    await sleep(500);
  }
}

const command: Command = {
  summary: 'Run the whole loop on embedded defaults: drift → retrain → A/B → promote, through real Airflow',
  details: [
    'Builds the Python environments, starts MLflow, trains the first prod on plain Iris, starts the router,',
    'sends plain traffic (the monitor DAG finds no drift), then drifted labelled traffic (the monitor DAG',
    'finds drift, retrains with PyCaret and opens the A/B test), then labelled A/B traffic (the A/B DAG',
    `promotes). Everything runs in a sandbox under ${path.relative(process.cwd(), DEMO_DIR) || DEMO_DIR} with its own model`,
    'name (<model_name>-demo), reset on every run; what it started is stopped at the end.',
  ].join('\n'),
  options: {
    'keep-running': { type: 'boolean', description: 'leave MLflow and the router running at the end' },
  },
  async run({ config, log, values, signal }) {
    const started = Date.now();
    let stepNo = 0;
    const step = (text: string): void => log(`\n== [${++stepNo}/9] ${text} (${Math.round((Date.now() - started) / 1000)} s)`);

    step('Python environments (PyCaret + MLflow; Airflow 3)');
    await ensurePythonEnv(ENVIRONMENTS.train, { log });
    await ensurePythonEnv(ENVIRONMENTS.airflow, { log });

    step('MLflow tracking server');
    const mlflowBefore = await startMlflow(config, log);
    const mlflowStartedHere = mlflowBefore.message.startsWith('MLflow started');
    let router: ResultPromise | null = null;
    try {
      mkdirSync(DEMO_DIR, { recursive: true });
      const demoFile = writeDemoConfig(config);
      const demo = loadConfig(demoFile, {});
      const client = await connectRegistry(demo);
      // A clean slate: the demo's own registered model and data, never yours.
      if (await client.getRegisteredModel(demo.mlflow.model_name)) await client.deleteRegisteredModel(demo.mlflow.model_name);
      keepPreviousLog(demo.router.log_path);
      rmSync(demo.dataset.current!, { force: true });
      const cli = async (args: string[]): Promise<unknown> => {
        const { stdout } = await runChild(NODE_BIN, [CLI_BIN, ...args, '--config', demoFile, '--json'], { onStderrLine: log, label: `driftgate ${args[0]}`, signal });
        return JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? 'null');
      };

      step('train the first prod on plain Iris (a fresh install: nothing to A/B against)');
      const first = (await cli(['train', '--trigger', 'manual'])) as { version: string; best_model: string };

      step('start the router');
      const dagsFolder = path.join(DEMO_DIR, 'dags');
      generateDags(demo, dagsFolder, log);
      const routerLog = path.join(DEMO_DIR, 'router.log');
      // A label token for this run only: the router takes labels with it, and the demo's traffic sends it.
      const labelToken = randomBytes(24).toString('base64url');
      router = execa(NODE_BIN, [CLI_BIN, 'serve', '--config', demoFile], {
        env: { DRIFTGATE_LABEL_TOKEN: labelToken },
        stdin: 'ignore',
        stdout: { file: routerLog, append: true },
        stderr: { file: routerLog, append: true },
        cleanup: true,
        reject: false,
      });
      const url = `http://${demo.router.host}:${demo.router.port}`;
      let exited = false;
      void router.catch(() => undefined).finally(() => (exited = true));
      await waitForReady(url, { timeoutMs: 120_000, gone: () => exited });
      log(`[demo] router ready at ${url} (log ${routerLog})`);
      const reference = (await readCsv(demo.dataset.reference)).rows;
      const traffic = async (what: string, rows: Record<string, string>[], requests: number, seed: number): Promise<TrafficResult> => {
        const result = await sendTraffic(demo, { baseUrl: url, requests, users: 400, concurrency: 16, rows, labels: 'feedback', labelToken, seed, signal });
        log(`[demo] ${what}: ${result.ok}/${result.sent} answered, variants ${JSON.stringify(result.variants)}, accuracy ${JSON.stringify(result.accuracy)}`);
        if (result.failed > 0) throw new DriftgateError('UNAVAILABLE', `${result.failed} of ${result.sent} requests failed: ${JSON.stringify(result.statuses)}`);
        // A refused label would leave the A/B test without evidence: stop here, naming the answers.
        if (Object.keys(result.statuses).some((status) => status.startsWith('feedback '))) {
          throw new DriftgateError('UNAVAILABLE', `the router refused feedback: ${JSON.stringify(result.statuses)}`);
        }
        return result;
      };
      const airflow = { home: path.join(DEFAULT_AIRFLOW_HOME, 'demo'), dagsFolder };
      const runDag = async (dagId: string): Promise<DagRunReport> => {
        const report = await dagsTest(airflow, dagId, { log, signal });
        log(`[demo] ${dagId}: ${report.state}; ${report.tasks.map((t) => `${t.task_id}=${t.state}`).join(', ')}`);
        if (report.state !== 'success') throw new DriftgateError('CHILD_FAILED', `DAG ${dagId} ended ${report.state}; see ${report.log_file}`);
        return report;
      };

      step('plain traffic; the monitor DAG should find no drift');
      await traffic('plain traffic', reference, 400, 1);
      const calm = await runDag(demo.airflow.dag_id);
      const calmDrift = calm.xcom.check_drift as { drift_detected: boolean; share_drifted: number } | undefined;

      step('drifted, labelled traffic; the monitor DAG should find drift, retrain and open the A/B test');
      await cli(['data', 'drifted']);
      const drifted = (await readCsv(demo.dataset.current!)).rows;
      await traffic('drifted traffic', drifted, 400, 2);
      const alarm = await runDag(demo.airflow.dag_id);
      const drift = alarm.xcom.check_drift as { drift_detected: boolean; share_drifted: number; report_dir: string } | undefined;
      const retrained = alarm.xcom.retrain as { version: string; best_model: string; metrics: { holdout: { Accuracy: number } } } | undefined;
      if (!drift?.drift_detected || !retrained) throw new DriftgateError('CHILD_FAILED', `the monitor DAG did not retrain (tasks: ${alarm.tasks.map((t) => `${t.task_id}=${t.state}`).join(', ')})`);

      step('the router picks up staging and the new split');
      await waitFor(
        'the router to serve staging',
        async () => {
          const ab = (await (await fetch(new URL('/ab', url))).json()) as { ab_split_b: number; staging: { version: string } | null };
          return ab.staging?.version === retrained.version && ab.ab_split_b > 0 ? ab : null;
        },
        30_000,
      );

      step('labelled A/B traffic; the A/B DAG should promote');
      // Fresh drifted rows: the retrained model has seen the labelled batch, so testing on it would flatter B.
      const unseen = makeBatch(demo, await readCsv(demo.dataset.reference), { rows: 1200, seed: 1234, shifts: IRIS_DRIFT, noise: 0.05 });
      const abTraffic = await traffic('A/B traffic', unseen, 1200, 3);
      const verdict = await runDag(demo.airflow.ab_dag_id);
      const evaluation = verdict.xcom.ab_evaluate as
        | { decision: string; reason: string; report_dir: string; variants: { A: { version: string; accuracy: number }; B: { version: string; accuracy: number } } }
        | undefined;

      // Confidence-based performance estimation over the same traffic: each version's accuracy estimated
      // from its logged probabilities, beside the accuracy its labels show.
      type Window = { source: string; version: string; n: number; estimated_accuracy: number | null; standard_error: number | null; labelled: number; realised_accuracy: number | null };
      const performance = ((await cli(['performance'])) as { windows: Window[] }).windows;

      step('summary');
      const state = await registryState(client, demo);
      const seconds = Math.round((Date.now() - started) / 1000);
      const summary = {
        seconds,
        model_name: demo.mlflow.model_name,
        first_prod: first.version,
        retrained: retrained.version,
        prod: state.prod,
        staging: state.staging,
        drift: { calm_share: calmDrift?.share_drifted ?? null, drifted_share: drift.share_drifted, report_dir: drift.report_dir },
        ab: evaluation ?? null,
        traffic_accuracy: abTraffic.accuracy,
        performance,
        mlflow_ui: demo.mlflow.tracking_uri,
        status_page: `${url}/status`,
        airflow_ui: 'npm run airflow (then http://127.0.0.1:8080)',
        config: demoFile,
      };
      const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
      const human = [
        `Driftgate demo finished in ${seconds} s.`,
        `  first prod:      ${demo.mlflow.model_name} v${first.version} (${first.best_model}), trained on plain Iris`,
        `  drift:           plain traffic ${calmDrift ? `share ${calmDrift.share_drifted}` : 'n/a'} (no drift); drifted traffic share ${drift.share_drifted} -> drift`,
        `  retrained:       v${retrained.version} (${retrained.best_model}, holdout accuracy ${pct(retrained.metrics.holdout.Accuracy)}) as staging`,
        `  A/B:             A v${evaluation?.variants.A.version} ${pct(evaluation?.variants.A.accuracy)} vs B v${evaluation?.variants.B.version} ${pct(evaluation?.variants.B.accuracy)}`,
        `  decision:        ${evaluation?.decision ?? 'n/a'}: ${evaluation?.reason ?? ''}`,
        ...performance.map(
          (w, i) =>
            `  ${i === 0 ? 'performance:' : '            '}     ${w.source} v${w.version}: estimated ${pct(w.estimated_accuracy ?? undefined)}${w.standard_error === null ? '' : ` ± ${(w.standard_error * 100).toFixed(1)}`} from ${w.n} predictions, realised ${pct(w.realised_accuracy ?? undefined)} on ${w.labelled} labels`,
        ),
        `  registry now:    prod v${state.prod}, staging ${state.staging ? `v${state.staging}` : 'none'}`,
        `  reports:         ${drift.report_dir}, ${evaluation?.report_dir ?? 'n/a'}`,
        `  MLflow UI:       ${demo.mlflow.tracking_uri}${mlflowStartedHere && !values['keep-running'] ? ' (stopped now; `npx driftgate mlflow start` to browse)' : ''}`,
        `  Airflow UI:      npm run airflow, then http://127.0.0.1:8080`,
        `  status page:     ${url}/status${values['keep-running'] ? '' : ' (while the router runs: --keep-running keeps it up)'}`,
        // The router outlives the demo only with --keep-running; its labels need this run's token.
        ...(values['keep-running'] ? [`  router:          ${url}, still running; send labels with Authorization: Bearer ${labelToken} (this run's DRIFTGATE_LABEL_TOKEN)`] : []),
      ].join('\n');
      if (evaluation?.decision !== 'promote') throw new DriftgateError('CHILD_FAILED', `the A/B DAG did not promote:\n${human}`);
      return { result: summary, human };
    } finally {
      if (router && !values['keep-running']) {
        router.kill('SIGTERM');
        await router;
      }
      if (mlflowStartedHere && !values['keep-running']) await stopMlflow(config, log);
    }
  },
};

export default command;
