export { airflowBin, airflowDb, airflowEnv, DEFAULT_AIRFLOW_HOME, DEFAULT_DAGS_FOLDER, pathWithAirflow, shellExports, type AirflowPaths } from './airflow-env.js';
export { dagSpec, type DagSpec } from './dag-spec.js';
export { dagFileName, generateDags, type GenerateResult } from './generate.js';
export { pyLines, pyRawBlock, pyString, pyValue, type PyValue } from './python-literal.js';
export { GENERATED_HEADER, renderAbDag, renderDags, renderMonitorDag, SCRIPTS, TASKS, type RenderedDag } from './render-dag.js';
export {
  checkImports,
  dagsTest,
  ensureAirflow,
  ensureMigrated,
  readDagRun,
  type DagRunReport,
  type DagsTestOptions,
  type ImportCheck,
  type TaskState,
} from './run-airflow.js';
export { parseSchedule, SCHEDULE_PRESETS } from './schedule.js';
export { LOG_SERVER_PORTS, passwordFile, runStandalone, type StandaloneInfo, type StandaloneOptions } from './standalone.js';
