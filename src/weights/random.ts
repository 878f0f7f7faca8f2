// A small seeded random number generator, so that every weight-quine run is reproducible: the same
// seed gives the same fixed projections, the same initial weights and therefore the same result,
// on every backend (nothing here uses tf.random*).

/** mulberry32: a 32-bit PRNG, fast and good enough for initialising weights. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [-bound, bound): PyTorch's default initialisation of a linear layer uses bound = 1/sqrt(fan_in). */
  uniform(bound: number): number {
    return (2 * this.next() - 1) * bound;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1], so log(u) is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** n values uniform in [-bound, bound), rounded to float32 (they live in float32 tensors). */
  uniformArray(n: number, bound: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(bound);
    return out;
  }

  /** n values normal with standard deviation std, rounded to float32. */
  normalArray(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = std * this.normal();
    return out;
  }
}
