/**
 * The one-sample two-sided Kolmogorov distribution (scipy.stats.kstwo), survival function only, and
 * Smirnov's one-sided tail (scipy.special.smirnov), with the algorithm choices of
 * scipy.stats._ksstats.kolmogn (Simard & L'Ecuyer 2011) so p-values match scipy 1.11.4.
 */

function clip01(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

const TWO_128 = 2 ** 128;
const TWO_M128 = 2 ** -128;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
// Below this, exp() underflows (scipy's _MIN_LOG).
const MIN_LOG = -708;
// cephes MINLOG as scipy builds it (DENORMAL): log(2^-1075), where exp() reaches 0.
const CEPHES_MINLOG = -7.451332191019412076235e2;
// Bernoulli-number Stirling coefficients B_2j/(2j(2j-1)), j = 8…1, highest power first.
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
] as const;

/** P(D_n ≥ x): scipy.stats.kstwo.sf(x, n), choosing the method by region as Simard & L'Ecuyer do. */
export function kolmogorovSf(n: number, x: number): number {
  if (!(n >= 1) || !Number.isInteger(n) || Number.isNaN(x)) return NaN;
  // kstwo's support is (0.5/n, 1): at or below it D_n ≥ x is certain, at or above 1 impossible.
  if (x <= 0.5 / n) return 1;
  if (x >= 1) return 0;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    // Ruben–Gambino: P(D_n ≤ x) = n!/n^n (2t - 1)^n for 1/2n ≤ x ≤ 1/n.
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let k = 1; k <= n; k++) cdf *= k * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * Math.pow(1 - x, n));
  // For x ≥ 0.5 the two one-sided events are disjoint: exactly twice Smirnov's tail.
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clip01(1 - durbinMatrixCdf(n, x));
    if (nxSquared <= 4) return clip01(1 - pomeranzCdf(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  const cdf = n <= 100_000 && n * Math.pow(x, 1.5) <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clip01(1 - cdf);
}

/** log(n!/n^n) by Stirling's series with n·log(n) cancelled analytically. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** x·2^e without overflowing 2^e on the way. */
function ldexp(x: number, e: number): number {
  let y = x;
  let k = e;
  while (k > 1000) {
    y *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000) {
    y *= 2 ** -1000;
    k += 1000;
  }
  return y * 2 ** k;
}

/** Row-major m×m product. */
function matmul(x: Float64Array, y: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const xik = x[i * m + k]!;
      if (xik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j]! += xik * y[k * m + j]!;
    }
  }
  return out;
}

/**
 * P(D_n ≤ d) by Durbin's matrix method as Marsaglia, Tsang & Wang evaluate it: the (k,k) entry of
 * H^n times n!/n^n, with d = (k - h)/n, rescaling by 2^128 to stay in range.
 */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - Math.pow(h, j)) * fac;
  }
  const tt = Math.pow(Math.max(2 * h - 1, 0), m) - 2 * Math.pow(h, m);
  v[m - 1] = (1 + tt) * fac;

  let base: Float64Array<ArrayBuffer> = new Float64Array(m * m);
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) base[r * m + i] = w[r - i + 1]!;
  for (let r = 0; r < m; r++) base[r * m] = v[r]!;
  for (let c = 0; c < m; c++) base[(m - 1) * m + c] = v[m - 1 - c]!;

  let power: Float64Array | null = null;
  let expnt = 0;
  let baseExpnt = 0;
  let nn = n;
  while (nn > 0) {
    if (nn % 2) {
      power = power ? matmul(power, base, m) : base.slice();
      expnt += baseExpnt;
    }
    nn = Math.floor(nn / 2);
    if (nn === 0) break;
    base = matmul(base, base, m);
    baseExpnt *= 2;
    if (Math.abs(base[(k - 1) * m + (k - 1)]!) > TWO_128) {
      for (let i = 0; i < base.length; i++) base[i]! /= TWO_128;
      baseExpnt += 128;
    }
  }
  let p = power![(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < TWO_M128) {
      p *= TWO_128;
      expnt -= 128;
    }
  }
  if (expnt !== 0) p = ldexp(p, expnt);
  return clip01(p);
}

/** Row bounds of Pomeranz's recursion (scipy's _pomeranz_compute_j1j2). */
function pomeranzBounds(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Python's a[start:stop] bounds for a sequence of `length` items. */
function sliceBounds(start: number, stop: number, length: number): [number, number] {
  const s = start < 0 ? Math.max(start + length, 0) : Math.min(start, length);
  const e = stop < 0 ? Math.max(stop + length, 0) : Math.min(stop, length);
  return [s, Math.max(s, e)];
}

/**
 * P(D_n ≤ x) by Pomeranz's recursion: each row convolves the previous one with one of three
 * Poisson-like weight vectors; the answer is n! times the last entry, rescaled by 2^±128.
 */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1]! * gOverN) / m;
    twogpower[m] = (twogpower[m - 1]! * twoGOverN) / m;
    onem2gpower[m] = (onem2gpower[m - 1]! * oneMinusTwoGOverN) / m;
  }
  let v0 = new Float64Array(npwrs);
  let v1 = new Float64Array(npwrs);
  v1[0] = 1;
  let v0s = 0;
  let v1s = 0;
  let expnt = 0;
  let [j1, j2] = pomeranzBounds(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0s, v1s] = [v1s, v0s];
    v1.fill(0);
    [j1, j2] = pomeranzBounds(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      const [as, ae] = sliceBounds(k1 - v0s, k1 - v0s + ln2, npwrs);
      const [, be] = sliceBounds(0, ln2, npwrs);
      const la = ae - as;
      const lb = be;
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let max = 0;
      for (let out = 0; out < convLen; out++) {
        // Entry convStart + out of the full convolution of v0[as:ae] with pwrs[0:lb].
        const kk = convStart + out;
        let sum = 0;
        const lo = Math.max(0, kk - lb + 1);
        const hi = Math.min(la - 1, kk);
        for (let q = lo; q <= hi; q++) sum += v0[as + q]! * pwrs[kk - q]!;
        v1[out] = sum;
        if (sum > max) max = sum;
      }
      if (max > 0 && max < TWO_M128) {
        for (let q = 0; q < npwrs; q++) v1[q]! *= TWO_128;
        expnt -= 128;
      }
      v1s = v0s + j1 - k1;
    }
  }
  let ans = v1[n - v1s]!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > TWO_128) {
      ans *= TWO_M128;
      expnt += 128;
    }
    ans *= m;
  }
  if (expnt !== 0) ans = ldexp(ans, expnt);
  return clip01(ans);
}

/**
 * Pelz–Good approximation of P(D_n ≤ x): the Li-Chien/Korolyuk expansion K0 + K1/√n + K2/n +
 * K3/n^1.5 rewritten through Jacobi theta identities so it converges for small x√n.
 */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);

  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;

  // Odd m = 2k - 1 has q^(m²) = q·q^(8·1)·…·q^(8(k-1)), so the sum nests Horner-style in q^(8k).
  const kk = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qpower = Math.pow(q, 8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let c = 0; c < 4; c++) kk[c] = kk[c]! * qpower + coeffs[c]!;
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let c = 0; c < 4; c++) kk[c] = (kk[c]! * q * SQRT_2PI) / divisors[c]!;

  // The integer-k sums of K2 and K3, which have no sign cancellation.
  q = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qp = Math.pow(q, k2);
    const kpi = Math.PI * k;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  kk[2]! += k2extra * ((PI2 * SQRT_2PI) / (-36 * z3));
  kk[3]! += k3extra * ((PI2 * SQRT_2PI) / (216 * z6));
  let sum = 0;
  for (let c = 0; c < 4; c++) sum += kk[c]! / Math.pow(n, c / 2);
  return sum;
}

/** Exact n·x as floor + fraction (Dekker's two-product), so the term count matches scipy's modNX. */
function splitNX(n: number, x: number): { floor: number; alpha: number } {
  const p = n * x;
  const split = (v: number): [number, number] => {
    const c = 134217729 * v;
    const hi = c - (c - v);
    return [hi, v - hi];
  };
  const [nh, nl] = split(n);
  const [xh, xl] = split(x);
  const err = nh * xh - p + nh * xl + nl * xh + nl * xl;
  let floor = Math.floor(p);
  let alpha = p - floor + err;
  if (alpha < 0) {
    floor -= 1;
    alpha += 1;
  } else if (alpha >= 1) {
    floor += 1;
    alpha -= 1;
  }
  if (alpha === 1) {
    floor += 1;
    alpha = 0;
  }
  return { floor, alpha };
}

/**
 * Smirnov's one-sided tail P(D_n+ ≥ x) (scipy.special.smirnov): the Birnbaum–Tingey sum
 * x·Σ_{v ≤ n(1-x)} C(n,v)(1 - x - v/n)^(n-v)(x + v/n)^(v-1), its terms taken in log space.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1) || !Number.isInteger(n)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const { floor: nxfl, alpha } = splitNX(n, x);
  let lastV = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) lastV -= 1;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    const cdf = x * Math.exp((n - 1) * Math.log1p(x));
    return clip01(1 - cdf);
  }
  if (-2 * n * x * x < CEPHES_MINLOG) return 0;
  if (nxfl >= n - 1) return clip01(Math.exp(n * Math.log1p(-x)));
  if (n > 1_000_000) {
    // cephes' closed form for huge n: p ≈ exp(-(6nx + 1)² / 18n).
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  // The lower sum is valid for every x; cephes' upper-sum shortcut (x ≤ 0.5/√n) never arises from kolmogn.
  const nTerms = lastV + 1;
  const vmid = Math.floor(n / 2);
  let sum = Math.exp(n * Math.log1p(-x)) / x;
  let logC = Math.log(n);
  for (let v = 1; v < nTerms; v++) {
    const s = (v + nxfl + alpha) / n;
    const term = Math.exp(logC + (n - v) * Math.log1p(-s) + (v - 1) * Math.log(s));
    if (Number.isFinite(term) && term !== 0) sum += term;
    if (term !== 0) {
      if (4 * (nTerms - v) * term < Number.EPSILON * sum && v !== nTerms - 1) break;
    } else if (v > vmid) {
      break;
    }
    logC += Math.log((n - v) / (v + 1));
  }
  return clip01(x * sum);
}
