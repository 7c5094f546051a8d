/**
 * A small, fast, seeded pseudo-random number generator for the simulator: xoshiro128**
 * (Blackman & Vigna, 2018) on four 32-bit words, with `Math.imul` so every step is exact
 * 32-bit integer arithmetic and the sequence is the same on every machine and Node
 * version.
 *
 * Streams are derived, not shared: {@link Rng.fork} hashes a label into the generator's
 * key (which comes from the seed, never from the current state), so `fork("arrivals")`
 * gives the same stream however many numbers the parent has drawn, and adding draws to
 * one part of the simulation never shifts another part's randomness.
 */

/** A seeded stream of random numbers. Deterministic: the same seed gives the same draws. */
export interface Rng {
  /** A uniform number in [0, 1) with 32 bits of resolution (multiples of 2⁻³²). */
  next(): number;
  /**
   * An exponential variate with the given rate (mean `1 / rate`), by the ziggurat method
   * (no logarithm on the fast path); finite for any rate > 0. A rate ≤ 0 gives `Infinity`.
   */
  exponential(rate: number): number;
  /** A standard normal variate (mean 0, variance 1), Box–Muller with the spare kept. */
  normal(): number;
  /**
   * A Poisson variate with the given mean: Knuth's product method below a mean of 10,
   * Hörmann's PTRS (transformed rejection with squeeze, exact) from 10 up. A mean ≤ 0
   * gives 0.
   */
  poisson(mean: number): number;
  /**
   * A uniform integer in [0, n) for 1 ≤ n ≤ 2³², as `floor(next() · n)`: the bias is at
   * most n / 2³², negligible for the sizes a simulation uses.
   */
  int(n: number): number;
  /**
   * An independent stream derived from this one's key and `label`, the same whatever this
   * stream has drawn. Forks of forks are fine: `fork("a").fork("b")`.
   */
  fork(label: string): Rng;
}

const TWO_POW_MINUS_32 = 2.3283064365386963e-10;
const LN_SQRT_2PI = 0.9189385332046728;

/** MurmurHash3's 32-bit finalizer: a bijective mix of all 32 bits. */
function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/**
 * Tables of the ziggurat for the unit exponential (Marsaglia & Tsang 2000, "The Ziggurat
 * Method for Generating Random Variables", 256 layers), scaled for 24-bit draws: the low 8
 * bits of a 32-bit output pick the layer, the high 24 bits the point in it, so the layer
 * and the value never share bits. About 99 % of draws take the fast path: one random word,
 * one compare, one multiply, no logarithm.
 */
const ZIG_R = 7.69711747013105;
const ZIG_V = 3.949659822581572e-3;
const ZIG_M = 2 ** 24;
const ZIG_K = new Uint32Array(256);
const ZIG_W = new Float64Array(256);
const ZIG_F = new Float64Array(256);
(() => {
  let d = ZIG_R;
  let t = d;
  const q = ZIG_V / Math.exp(-d);
  ZIG_K[0] = Math.floor((d / q) * ZIG_M);
  ZIG_K[1] = 0;
  ZIG_W[0] = q / ZIG_M;
  ZIG_W[255] = d / ZIG_M;
  ZIG_F[0] = 1;
  ZIG_F[255] = Math.exp(-d);
  for (let i = 254; i >= 1; i--) {
    d = -Math.log(ZIG_V / d + Math.exp(-d));
    ZIG_K[i + 1] = Math.floor((d / t) * ZIG_M);
    t = d;
    ZIG_F[i] = Math.exp(-d);
    ZIG_W[i] = d / ZIG_M;
  }
})();

/** ln(k!) for small k, exact to the last bit; Stirling's series above. */
const LOG_FACTORIAL_TABLE: Float64Array = (() => {
  const t = new Float64Array(256);
  for (let k = 1; k < t.length; k++) t[k] = t[k - 1]! + Math.log(k);
  return t;
})();

/** ln(k!) for an integer k ≥ 0 (relative error below 1e-15). */
export function logFactorial(k: number): number {
  if (k < LOG_FACTORIAL_TABLE.length) return LOG_FACTORIAL_TABLE[k]!;
  const x = k + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  // ln Γ(x) = (x − ½)ln x − x + ln√(2π) + 1/(12x) − 1/(360x³) + 1/(1260x⁵) − …
  return (
    (x - 0.5) * Math.log(x) -
    x +
    LN_SQRT_2PI +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))
  );
}

class Xoshiro128 implements Rng {
  // Int32Array, not four number fields: V8 would box the words that leave the 31-bit Smi
  // range, and a typed array keeps every step allocation-free.
  private readonly s = new Int32Array(4);
  private readonly k0: number;
  private readonly k1: number;
  private spare = 0;
  private hasSpare = false;

  constructor(k0: number, k1: number) {
    this.k0 = k0 | 0;
    this.k1 = k1 | 0;
    // SplitMix-style expansion of the 64-bit key into 128 bits of state.
    let a = this.k0;
    let b = this.k1;
    for (let i = 0; i < 4; i++) {
      a = (a + 0x9e3779b9) | 0;
      b = fmix32(b ^ Math.imul(a, 0x27d4eb2f));
      this.s[i] = fmix32(a ^ b);
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
    // Let the first few outputs mix away any structure left in the key.
    for (let i = 0; i < 8; i++) this.nextUint32();
  }

  private nextUint32(): number {
    const s = this.s;
    const s0 = s[0]!;
    const s1 = s[1]!;
    const s2 = s[2]!;
    const s3 = s[3]!;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s[1] = s1 ^ n2;
    s[0] = s0 ^ n3;
    s[2] = n2 ^ t;
    s[3] = (n3 << 11) | (n3 >>> 21);
    return result >>> 0;
  }

  next(): number {
    return this.nextUint32() * TWO_POW_MINUS_32;
  }

  exponential(rate: number): number {
    if (rate <= 0) return Number.POSITIVE_INFINITY;
    const u = this.nextUint32();
    const layer = u & 255;
    const j = u >>> 8;
    if (j < ZIG_K[layer]!) return (j * ZIG_W[layer]!) / rate;
    return this.exponentialSlow(layer, j) / rate;
  }

  /** The ziggurat's rare path: the tail beyond R, or a point in a layer's wedge. */
  private exponentialSlow(firstLayer: number, firstJ: number): number {
    let layer = firstLayer;
    let j = firstJ;
    for (;;) {
      if (layer === 0) return ZIG_R - Math.log(1 - this.next());
      const x = j * ZIG_W[layer]!;
      const f = ZIG_F[layer]!;
      if (f + this.next() * (ZIG_F[layer - 1]! - f) < Math.exp(-x)) return x;
      const u = this.nextUint32();
      layer = u & 255;
      j = u >>> 8;
      if (j < ZIG_K[layer]!) return j * ZIG_W[layer]!;
    }
  }

  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < 10) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        k++;
        p *= this.next();
      }
      return k;
    }
    return this.ptrs(mean);
  }

  /**
   * Hörmann (1993), "The transformed rejection method for generating Poisson random
   * variables", algorithm PTRS; valid and exact for mean ≥ 10.
   */
  private ptrs(mu: number): number {
    const smu = Math.sqrt(mu);
    const b = 0.931 + 2.53 * smu;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    const logMu = Math.log(mu);
    for (;;) {
      const u = this.next() - 0.5;
      const v = 1 - this.next(); // (0, 1]: keeps ln v finite
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mu + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (
        Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <=
        -mu + k * logMu - logFactorial(k)
      ) {
        return k;
      }
    }
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  fork(label: string): Rng {
    let h0 = this.k0 ^ 0x243f6a88;
    let h1 = this.k1 ^ 0x85a308d3;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      h0 = fmix32(h0 ^ c);
      h1 = fmix32((h1 + Math.imul(c, 0x9e3779b9)) ^ h0);
    }
    h0 = fmix32(h0 ^ label.length);
    h1 = fmix32(h1 ^ h0 ^ 0x13198a2e);
    return new Xoshiro128(h0, h1);
  }
}

const seedView = new DataView(new ArrayBuffer(8));

/**
 * Creates a generator from a seed. Any finite number is a valid seed and distinct numbers
 * give distinct streams (the seed's 64 bits are hashed, so 1 and 1.5 differ).
 *
 * @throws RangeError for NaN or an infinite seed.
 */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) {
    throw new RangeError(`a random seed must be a finite number. Received: ${seed}`);
  }
  seedView.setFloat64(0, seed === 0 ? 0 : seed); // -0 and 0 are the same seed
  return new Xoshiro128(fmix32(seedView.getInt32(0)), fmix32(seedView.getInt32(4) ^ 0x5bd1e995));
}
