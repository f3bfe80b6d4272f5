import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { readCsv } from '../../data/table.js';
import { IRIS_DRIFT, makeBatch, parseShift, type Shift } from '../../data/drifted.js';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../fs-atomic.js';
import { positiveIntOption, stringOption, type Command } from '../command.js';

const command: Command = {
  summary: 'Write a seeded, labelled batch for demos and tests: drifted (shifted features) or plain',
  usage: 'drifted|plain',
  details: [
    'drifted applies each --shift FEATURE:SCALE:OFFSET (value * SCALE + OFFSET) to resampled reference rows;',
    `without --shift it applies the Iris drift: ${IRIS_DRIFT.map((s) => `${s.feature}:${s.scale}:${s.offset}`).join(' ')}.`,
    'Both kinds add a little Gaussian noise (--noise, a share of each feature\'s standard deviation).',
    'The default output of drifted is dataset.current from the config.',
  ].join('\n'),
  options: {
    rows: { type: 'string', valueName: 'N', description: 'rows to write (default 300)' },
    seed: { type: 'string', valueName: 'N', description: 'random seed (default 7)' },
    shift: { type: 'string', multiple: true, valueName: 'F:S:O', description: 'feature shift, repeatable' },
    noise: { type: 'string', valueName: 'X', description: 'noise share of the feature std (default 0.05)' },
    out: { type: 'string', valueName: 'PATH', description: 'output CSV (default dataset.current for drifted)' },
  },
  async run({ values, positionals, config, log }) {
    const kind = positionals[0];
    if (kind !== 'drifted' && kind !== 'plain') throw new UsageError(`data: expected "drifted" or "plain", got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}`);
    const shiftTexts = (values.shift as string[] | undefined) ?? [];
    const shifts: Shift[] = kind === 'plain' ? [] : shiftTexts.length ? shiftTexts.map(parseShift) : IRIS_DRIFT;
    const noiseText = stringOption(values, 'noise');
    const noise = noiseText === undefined ? 0.05 : Number(noiseText);
    if (!Number.isFinite(noise) || noise < 0) throw new UsageError(`--noise: expected a number >= 0, got ${JSON.stringify(noiseText)}`);
    const outFlag = stringOption(values, 'out');
    const out = outFlag ? path.resolve(outFlag) : kind === 'drifted' ? config.dataset.current : null;
    if (!out) throw new UsageError(`data ${kind}: expected --out PATH${kind === 'drifted' ? ' (dataset.current is not set)' : ''}`);
    const reference = await readCsv(config.dataset.reference);
    const rows = makeBatch(config, reference, {
      rows: positiveIntOption(values, 'rows', 300),
      seed: positiveIntOption(values, 'seed', 7),
      shifts,
      noise,
    });
    const columns = [...config.dataset.features.map((f) => f.name), config.dataset.target];
    writeFileAtomic(out, stringify(rows, { header: true, columns }));
    log(`[data] wrote ${rows.length} ${kind} rows to ${out}`);
    return { result: { kind, path: out, rows: rows.length, shifts }, human: `wrote ${rows.length} ${kind} rows to ${out}` };
  },
};

export default command;
