/** Hostile strings for config values that reach the generated DAGs: each must arrive unchanged. */
export const CORPUS = {
  quotes: `it's "quoted"`,
  newline: 'line one\nline two',
  tripleQuotes: 'a """ b \'\'\' c',
  jinja: '{{ run_id }} {{ 7 * 7 }} {% raw %}x{% endraw %} {# note #}',
  command: '$(touch PWNED) `touch PWNED` ${HOME}',
  semicolon: 'a; touch PWNED && echo | cat',
  backslash: 'C:\\temp\\new \\n \\x41 \\',
  unicode: 'ü € 😀 \u00a0 \t tab',
} as const;

/** All of the corpus in one name, usable as a file or folder name (no slash, no NUL). */
export const CORPUS_NAME = Object.values(CORPUS).join(' ').replaceAll('PWNED', 'pwned-marker');
