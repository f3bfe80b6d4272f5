/**
 * What every HTML report shares: one self-contained page (inline CSS and SVG, no scripts, nothing
 * fetched) that opens offline, its escaping, its numbers for people and its chart frame.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Compact numbers for people: 4 significant digits, exponent for tiny p-values, ∞ for infinities. */
export function formatNumber(value: number, digits = 4): string {
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  if (Number.isNaN(value)) return 'NaN';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e6) return value.toExponential(Math.max(0, digits - 2));
  return Number(value.toPrecision(digits)).toString();
}

/** The smallest 1, 2 or 5 × 10^k at least `value` (a little below counts): round axis ends and steps. */
export function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((v) => v >= value * 0.999) ?? value;
}

/** An SVG chart of the page: the drawing scales to the page width; `label` is what a screen reader says. */
export function svgChart(width: number, height: number, label: string, body: readonly string[]): string {
  return [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}">`, ...body, '</svg>'].join('');
}

/** A whole page: the document head with its title, inline style and any extra head elements (`head`, as markup), then the body. */
export function htmlPage(title: string, style: string, body: readonly string[], head: readonly string[] = []): string {
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${head.join('')}`,
    `<title>${escapeHtml(title)}</title><style>${style}</style></head><body>`,
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}
