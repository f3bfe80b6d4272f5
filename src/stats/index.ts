export { chiSquareSf, chiSquareTest, regularizedGammaQ, type ChiSquareTestResult } from './chi-square.js';
export { normalCdf, normalIsf, normalLogCdf, normalPdf, normalQuantile, normalSf } from './normal.js';
export { kolmogorovSf, smirnovSf } from './kolmogorov.js';
export { FEATURE_LIMIT, featureNumberExpectation, isFeatureNumber, parseDecimal, parseFeatureNumber } from './number.js';
export { quantileAt, quantileSorted, ValueCountQuantiles } from './quantile.js';
