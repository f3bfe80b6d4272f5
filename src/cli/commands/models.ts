import { connectRegistry, registryState, VERSION_TAGS, versionTag } from '../../registry/index.js';
import { textTable } from '../../report/index.js';
import type { Command } from '../command.js';

const command: Command = {
  summary: 'List the registered versions with their aliases, metrics and tags',
  async run({ config }) {
    const client = await connectRegistry(config);
    const versions = await client.searchVersions(config.mlflow.model_name);
    const aliases = await registryState(client, config);
    const rows = versions.map((v) => {
      const tags = Object.fromEntries((v.tags ?? []).map((t) => [t.key, t.value]));
      const names = [aliases.prod === v.version ? config.mlflow.prod_alias : null, aliases.staging === v.version ? config.mlflow.staging_alias : null].filter(
        (a): a is string => a !== null,
      );
      return {
        version: v.version,
        aliases: names,
        created: v.creation_timestamp ? new Date(v.creation_timestamp).toISOString() : null,
        best_model: versionTag(v, VERSION_TAGS.bestModel) ?? null,
        holdout_accuracy: tags[VERSION_TAGS.holdoutAccuracy] === undefined ? null : Number(tags[VERSION_TAGS.holdoutAccuracy]),
        run_id: v.run_id ?? null,
        tags,
      };
    });
    const header = ['version', 'aliases', 'created', 'best model', 'holdout acc', 'trigger', 'gate', 'decision'];
    const lines = rows.map((r) => [
      r.version,
      r.aliases.join(',') || '-',
      r.created?.slice(0, 19) ?? '-',
      r.best_model ?? '-',
      r.holdout_accuracy === null ? '-' : r.holdout_accuracy.toFixed(4),
      r.tags[VERSION_TAGS.trigger] ?? '-',
      r.tags[VERSION_TAGS.gate] ?? '-',
      r.tags[VERSION_TAGS.decision] ?? '-',
    ]);
    const table = textTable(header, lines);
    return {
      result: { model_name: config.mlflow.model_name, prod: aliases.prod, staging: aliases.staging, versions: rows },
      human: rows.length ? `${config.mlflow.model_name}\n${table}` : `${config.mlflow.model_name}: no versions registered yet`,
    };
  },
};

export default command;
