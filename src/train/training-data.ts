/** Check training data before any Python starts: a bad row is exit 2 naming the file and line. */
import { existsSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { InputError } from '../errors.js';
import { numberAt, readCsv, requireColumns } from '../data/table.js';

export interface TrainingSource {
  path: string;
  role: 'reference' | 'current';
  rows: number;
}

export async function checkTrainingData(config: Config, log: (line: string) => void): Promise<TrainingSource[]> {
  const { dataset } = config;
  const sources: { path: string; role: TrainingSource['role'] }[] = [{ path: dataset.reference, role: 'reference' }];
  if (dataset.current !== null) {
    if (existsSync(dataset.current)) sources.push({ path: dataset.current, role: 'current' });
    else log(`[train] dataset.current (${dataset.current}) does not exist yet; training on the reference only`);
  }
  const checked: TrainingSource[] = [];
  for (const source of sources) {
    const table = await readCsv(source.path);
    requireColumns(table, [...dataset.features.map((f) => f.name), dataset.target]);
    if (table.rows.length === 0) throw new InputError(`${source.path}: no data rows`);
    table.rows.forEach((row, i) => {
      const label = row[dataset.target] ?? '';
      if (label === '') throw new InputError(`${source.path}: line ${i + 2}: missing target ${JSON.stringify(dataset.target)}`);
      if (!dataset.classes.includes(label)) {
        throw new InputError(`${source.path}: line ${i + 2}, column ${JSON.stringify(dataset.target)}: expected one of ${dataset.classes.join(', ')}, got ${JSON.stringify(label)}`);
      }
      for (const feature of dataset.features) {
        if (feature.type === 'numeric') numberAt(table, i, feature.name);
        else if ((row[feature.name] ?? '') === '') throw new InputError(`${source.path}: line ${i + 2}, column ${JSON.stringify(feature.name)}: expected a category, got an empty value`);
      }
    });
    checked.push({ ...source, rows: table.rows.length });
  }
  return checked;
}
