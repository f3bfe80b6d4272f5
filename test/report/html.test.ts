import { describe, expect, it } from 'vitest';
import { escapeHtml, formatNumber, htmlPage, niceCeiling, svgChart } from '../../src/report/html.js';

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [0.023823547883238344, '0.02382'],
    [4.20969737437461, '4.21'],
    [8.966411822733275e-14, '8.97e-14'],
    [1234567, '1.23e+6'],
    [-0.5, '-0.5'],
    [Infinity, '∞'],
    [-Infinity, '−∞'],
    [NaN, 'NaN'],
  ])('%s → %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('p-values get 3 digits', () => {
    expect(formatNumber(0.8103405989234691, 3)).toBe('0.81');
    expect(formatNumber(2.228915760997911e-8, 3)).toBe('2.2e-8');
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('niceCeiling', () => {
  it.each([
    [0.37, 0.5],
    [0.2, 0.2],
    [0.2001, 0.2],
    [3, 5],
    [12, 20],
    [1, 1],
  ])('%s → %s', (value, nice) => {
    expect(niceCeiling(value)).toBe(nice);
  });
});

describe('the page and its charts', () => {
  it('a page has its escaped title and inline style, and nothing to fetch', () => {
    expect(htmlPage('a <b> report', 'p{}', ['<p>x</p>'])).toBe(
      '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\n<title>a &lt;b&gt; report</title><style>p{}</style></head><body>\n<p>x</p>\n</body></html>\n',
    );
  });

  it('a chart is an SVG with its label for screen readers', () => {
    expect(svgChart(640, 200, 'p "x"', ['<line/>'])).toBe('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 200" role="img" aria-label="p &quot;x&quot;"><line/></svg>');
  });
});
