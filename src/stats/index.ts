export { chiSquareSf, chiSquareTest, regularizedGammaQ, type ChiSquareTestResult } from './chi-square.js';
export { normalCdf, normalIsf, normalLogCdf, normalPdf, normalQuantile, normalSf } from './normal.js';
export { kolmogorovSf, smirnovSf } from './kolmogorov.js';
export { FEATURE_LIMIT, featureNumberExpectation, isFeatureNumber, parseDecimal, parseFeatureNumber } from './number.js';
export { quantileAt, quantileSorted, ValueCountQuantiles } from './quantile.js';
export { asymptoticPValue, exactTwoSided, ksStatistic, ksTwoSample, type ExactResult, type KsMethod, type KsOptions, type KsResult } from './ks.js';
export { MSPRT_START, msprtPath, msprtStatistic, msprtStep, type MsprtPathOptions, type MsprtPathPoint, type TwoArmCounts } from './msprt.js';
export { lowerBound, prepareSample, requireSortedFinite, sortedCopy, upperBound } from './sorted-sample.js';
export { wilsonInterval, type ProportionInterval } from './wilson-interval.js';
