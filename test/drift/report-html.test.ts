import { describe, expect, it } from 'vitest';
import { distributionChart } from '../../src/drift/report-html.js';
import { reportDistribution } from '../../src/drift/report-json.js';

describe('distributionChart', () => {
  const quantile = reportDistribution({ kind: 'quantile', edges: [-Infinity, -0.5, 0.5, Infinity], labels: null, referenceCounts: [25, 50, 25], currentCounts: [10, 40, 50] }, 100);

  it('draws a bar per reference bin, one current line, and a tooltip per bin', () => {
    const svg = distributionChart(quantile, 'x: reference and current');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // Three bars and the legend's swatch.
    expect(svg.match(/fill="#4c78a8" fill-opacity="0.5"\/>/g)).toHaveLength(4);
    expect(svg.match(/<path /g)).toHaveLength(1);
    expect(svg).toContain('<title>[−∞, -0.5): reference 25.0% (25), current 10.0% (10)</title>');
    expect(svg).toContain('<title>[0.5, ∞): reference 25.0% (25), current 50.0% (50)</title>');
    // Axis: a round maximum above the tallest bar (50%).
    expect(svg).toContain('>50.0%</text>');
  });

  it('labels value and category bins by their values, escaped', () => {
    const svg = distributionChart(reportDistribution({ kind: 'categories', edges: null, labels: ['<x>', 'y'], referenceCounts: [1, 1], currentCounts: [2, 0] }, 100), 'c');
    expect(svg).toContain('>&lt;x&gt;</text>');
    expect(svg).not.toContain('<x>');
  });
});
