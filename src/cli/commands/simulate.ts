import { readCsv, requireColumns } from '../../data/table.js';
import { IRIS_DRIFT, makeBatch, parseShift } from '../../data/drifted.js';
import { UsageError } from '../../errors.js';
import { sendTraffic } from '../../simulate/traffic.js';
import { positiveIntOption, stringOption, type Command } from '../command.js';

const command: Command = {
  summary: 'Send traffic to the router: N requests from M users, plain or drifted, labels inline or as feedback',
  details:
    'Rows are drawn (seeded) from --data (default dataset.reference). --drifted applies --shift F:S:O shifts\n' +
    '(default: the Iris drift) to freshly resampled rows. The router URL defaults to router.host:port.\n' +
    'Labels are sent with Authorization: Bearer $DRIFTGATE_LABEL_TOKEN (a router with router.labels: token\n' +
    'refuses them without it).',
  options: {
    requests: { type: 'string', valueName: 'N', description: 'requests to send (default 500)' },
    users: { type: 'string', valueName: 'M', description: 'distinct user ids (default 200)' },
    concurrency: { type: 'string', valueName: 'C', description: 'requests in flight (default 16)' },
    data: { type: 'string', valueName: 'PATH', description: 'labelled CSV to draw rows from' },
    drifted: { type: 'boolean', description: 'shift the features (see --shift)' },
    shift: { type: 'string', multiple: true, valueName: 'F:S:O', description: 'feature shift for --drifted, repeatable' },
    labels: { type: 'string', valueName: 'HOW', description: 'inline, feedback (default) or none' },
    seed: { type: 'string', valueName: 'N', description: 'random seed (default 1)' },
    url: { type: 'string', valueName: 'URL', description: 'router base URL' },
  },
  async run({ values, config, log, signal }) {
    const labels = stringOption(values, 'labels') ?? 'feedback';
    if (labels !== 'inline' && labels !== 'feedback' && labels !== 'none') {
      throw new UsageError(`--labels: expected inline, feedback or none, got ${JSON.stringify(labels)}`);
    }
    const requests = positiveIntOption(values, 'requests', 500);
    const seed = positiveIntOption(values, 'seed', 1);
    const source = await readCsv(stringOption(values, 'data') ?? config.dataset.reference);
    requireColumns(source, [...config.dataset.features.map((f) => f.name), config.dataset.target]);
    const shifts = ((values.shift as string[] | undefined) ?? []).map(parseShift);
    const rows = values.drifted
      ? makeBatch(config, source, { rows: Math.max(requests, 300), seed, shifts: shifts.length ? shifts : IRIS_DRIFT, noise: 0.05 })
      : source.rows;
    const baseUrl = stringOption(values, 'url') ?? `http://${config.router.host.includes(':') ? `[${config.router.host}]` : config.router.host}:${config.router.port}`;
    log(`[simulate] ${requests} ${values.drifted ? 'drifted' : 'plain'} requests to ${baseUrl} (labels: ${labels})`);
    if (labels !== 'none' && config.labelToken === null) {
      log('[simulate] DRIFTGATE_LABEL_TOKEN is not set: the labels go without a token, which a router with router.labels: token refuses (401)');
    }
    const result = await sendTraffic(config, {
      baseUrl,
      requests,
      users: positiveIntOption(values, 'users', 200),
      concurrency: positiveIntOption(values, 'concurrency', 16),
      rows,
      labels,
      labelToken: config.labelToken,
      seed,
      signal,
      onProgress: (done) => log(`[simulate] ${done}/${requests}`),
    });
    const accuracy = Object.entries(result.accuracy)
      .map(([variant, a]) => `${variant} ${a.toFixed(3)}`)
      .join(', ');
    return {
      result,
      human: `sent ${result.sent}: ${result.ok} ok, ${result.failed} failed in ${result.seconds.toFixed(1)} s; variants ${JSON.stringify(result.variants)}; accuracy ${accuracy || 'n/a'}`,
    };
  },
};

export default command;
