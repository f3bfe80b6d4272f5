/** Seeded demo batches: plain resamples of the reference, or resamples with a declared shift. */
import type { Config } from '../config/index.js';
import { InputError } from '../errors.js';
import { gaussian, seededRandom } from '../random.js';
import { numberAt, requireColumns, type Table } from './table.js';

export interface Shift {
  feature: string;
  scale: number;
  offset: number;
}

/** The Iris drift from the docs: large enough to hurt a model trained on plain Iris. */
export const IRIS_DRIFT: Shift[] = [
  { feature: 'petal_length', scale: 1.25, offset: 0.4 },
  { feature: 'petal_width', scale: 1.3, offset: 0.15 },
];

/** Parse `name:scale:offset`, e.g. `petal_length:1.25:0.4`. */
export function parseShift(text: string): Shift {
  const match = /^([^:]+):(-?[\d.]+(?:e-?\d+)?):(-?[\d.]+(?:e-?\d+)?)$/.exec(text);
  if (!match) throw new InputError(`--shift: expected FEATURE:SCALE:OFFSET (e.g. petal_length:1.25:0.4), got ${JSON.stringify(text)}`);
  return { feature: match[1]!, scale: Number(match[2]), offset: Number(match[3]) };
}

export interface BatchOptions {
  rows: number;
  seed: number;
  shifts: Shift[];
  /** Noise as a share of each feature's reference standard deviation. */
  noise: number;
}

/** Resample reference rows (stratified by nothing: plain bootstrap), shift, add noise, keep labels. */
export function makeBatch(config: Config, reference: Table, options: BatchOptions): Record<string, string>[] {
  const { features, target } = config.dataset;
  const numeric = features.filter((f) => f.type === 'numeric').map((f) => f.name);
  requireColumns(reference, [...features.map((f) => f.name), target]);
  if (reference.rows.length === 0) throw new InputError(`${reference.file}: no data rows`);
  for (const shift of options.shifts) {
    if (!numeric.includes(shift.feature)) {
      throw new InputError(`--shift: expected a numeric feature of the config (${numeric.join(', ')}), got ${JSON.stringify(shift.feature)}`);
    }
  }
  const std = new Map<string, number>();
  for (const name of numeric) {
    const values = reference.rows.map((_, i) => numberAt(reference, i, name));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    std.set(name, Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length));
  }
  const random = seededRandom(options.seed);
  const normal = gaussian(random);
  const out: Record<string, string>[] = [];
  for (let r = 0; r < options.rows; r++) {
    const index = Math.floor(random() * reference.rows.length);
    const source = reference.rows[index]!;
    const row: Record<string, string> = {};
    for (const feature of features) {
      if (feature.type !== 'numeric') {
        row[feature.name] = source[feature.name] ?? '';
        continue;
      }
      let value = numberAt(reference, index, feature.name);
      const shift = options.shifts.find((s) => s.feature === feature.name);
      if (shift) value = value * shift.scale + shift.offset;
      value += normal() * options.noise * std.get(feature.name)!;
      row[feature.name] = value.toFixed(2);
    }
    row[target] = source[target] ?? '';
    out.push(row);
  }
  return out;
}
