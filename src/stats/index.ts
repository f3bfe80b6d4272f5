export { chiSquareSf, regularizedGammaQ } from './chi-square.js';
export { normalCdf, normalIsf, normalLogCdf, normalPdf, normalQuantile, normalSf } from './normal.js';
export { kolmogorovSf, smirnovSf } from './kolmogorov.js';
