import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { checkLogColumns, isLogHeader, legacyLogColumns, olderLogColumns, logColumns } from '../../src/prediction-log/index.js';
import { tempDir, writeConfig } from '../helpers/config.js';

const config = loadConfig(writeConfig(tempDir('driftgate-columns-')), {});

describe('the log columns', () => {
  it('puts the feature columns, in config order, between the fixed ones (DESIGN.md), and the newer columns last', () => {
    expect(logColumns(config)).toEqual([
      'ts', 'event', 'request_id', 'user_id', 'variant', 'model_alias', 'model_version',
      'sepal_length', 'sepal_width', 'petal_length', 'petal_width',
      'prediction', 'label', 'latency_ms', 'error_code', 'ab_split_b', 'probabilities',
    ]);
    expect(legacyLogColumns(config)).toEqual(logColumns(config).slice(0, -3));
    // The headers before: issue 13's (no probabilities), then the first (no optional column).
    expect(olderLogColumns(config)).toEqual([logColumns(config).slice(0, -1), logColumns(config).slice(0, -3)]);
  });

  it.each(['label', 'error_code', 'ab_split_b', 'probabilities'])('refuses a feature named like the log column %s', (name) => {
    const clash = { ...config, dataset: { ...config.dataset, features: [...config.dataset.features, { name, type: 'numeric' as const }] } };
    expect(() => checkLogColumns(clash)).toThrow(
      `${config.source.file}: dataset.features[4]: expected a name that is not a column of the predictions log (ts, event, request_id, user_id, variant, model_alias, model_version, prediction, label, latency_ms, error_code, ab_split_b, probabilities), got "${name}"`,
    );
  });

  it('tells a log header by its fixed leading columns', () => {
    expect(isLogHeader(['ts', 'event', 'request_id', 'x'])).toBe(true);
    expect(isLogHeader(['event', 'ts', 'request_id'])).toBe(false);
  });
});
