import { describe, expect, it } from 'vitest';

import { seededRandom } from '../../src/random.js';
import { estimateAccuracy, learnCalibration } from '../../src/stats/cbpe.js';

describe('confidence-based performance estimation', () => {
  it('estimates the mean calibrated probability, with a Bernoulli standard error', () => {
    // Confident predictions (0.9) were right 3 times in 4, unsure ones (0.5) once in 2.
    const calibration = learnCalibration([
      { confidence: 0.9, correct: true },
      { confidence: 0.9, correct: true },
      { confidence: 0.9, correct: true },
      { confidence: 0.9, correct: false },
      { confidence: 0.5, correct: true },
      { confidence: 0.5, correct: false },
    ]);
    expect(calibration).toEqual({ fit: { x: [0.5, 0.9], y: [0.5, 0.75] }, rows: 6, accuracy: 4 / 6 });
    const estimate = estimateAccuracy(calibration, [0.95, 0.9, 0.6, 0.4]);
    expect(estimate.n).toBe(4);
    expect(estimate.estimate).toBeCloseTo((0.75 + 0.75 + 0.5 + 0.5) / 4, 15);
    expect(estimate.standardError).toBeCloseTo(Math.sqrt(2 * 0.75 * 0.25 + 2 * 0.5 * 0.5) / 4, 15);
    expect(estimateAccuracy(calibration, [])).toEqual({ n: 0, estimate: Number.NaN, standardError: Number.NaN });
  });

  it('on a shifted population it follows the realised accuracy (seeded: an overconfident model, fewer easy rows)', () => {
    const random = seededRandom(15);
    // A model whose stated confidence c is right with probability c², learned on 20,000 held-out rows.
    const draw = (easyShare: number) => {
      const confidence = random() < easyShare ? 0.9 + 0.1 * random() : 0.4 + 0.3 * random();
      return { confidence, correct: random() < confidence * confidence };
    };
    const calibration = learnCalibration(Array.from({ length: 20_000 }, () => draw(0.7)));
    // Production has drifted to 30% easy rows: accuracy falls, and the estimate with it.
    const live = Array.from({ length: 5_000 }, () => draw(0.3));
    const realised = live.filter((r) => r.correct).length / live.length;
    const estimate = estimateAccuracy(calibration, live.map((r) => r.confidence));
    expect(calibration.accuracy).toBeGreaterThan(0.7);
    expect(realised).toBeLessThan(0.55);
    expect(Math.abs(estimate.estimate - realised)).toBeLessThan(3 * estimate.standardError + 0.01);
  });

  it('needs held-out rows to learn from', () => {
    expect(() => learnCalibration([])).toThrow('calibration: expected held-out rows with labels, got none');
  });
});
