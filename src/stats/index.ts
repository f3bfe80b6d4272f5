export { chiSquareSf, chiSquareTest, regularizedGammaQ, type ChiSquareTestResult } from './chi-square.js';
export { normalCdf, normalIsf, normalLogCdf, normalPdf, normalQuantile, normalSf } from './normal.js';
export { kolmogorovSf, smirnovSf } from './kolmogorov.js';
export { FEATURE_LIMIT, featureNumberExpectation, isFeatureNumber, parseDecimal, parseFeatureNumber } from './number.js';
export { quantileAt, quantileSorted, ValueCountQuantiles } from './quantile.js';
export { asymptoticPValue, exactTwoSided, ksStatistic, ksTwoSample, type ExactResult, type KsMethod, type KsOptions, type KsResult } from './ks.js';
export { ClusteredMean } from './clustered-mean.js';
export {
  MSPRT_START,
  mixtureBounds,
  mixtureHalfWidth,
  mixtureStatistic,
  msprtStatistic,
  msprtStep,
  SEQUENTIAL_START,
  sequentialStep,
  type MsprtOptions,
  type MsprtPathOptions,
  type MsprtPathPoint,
  type MsprtStatistic,
  type SequentialPoint,
  type TwoArmCounts,
} from './msprt.js';
export { SequentialSrm, SRM_PRIOR_CONCENTRATION, type SrmPeriod } from './sequential-srm.js';
export { lowerBound, prepareSample, requireSortedFinite, sortedCopy, upperBound } from './sorted-sample.js';
export { sortFloat64 } from './radix-sort.js';
export { wilsonInterval, type ProportionInterval } from './wilson-interval.js';
export { adjustPValues, type Correction } from './multiple-testing.js';
export { psiExpected, psiPValue } from './psi-null.js';
