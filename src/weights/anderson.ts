// Anderson acceleration of a fixed-point iteration x ← g(x) (Anderson 1965; Walker & Ni 2011).
//
// Plain regeneration W ← f(W) converges only where f is contracting near the fixed point; from other
// starts it circles or wanders. Anderson mixing combines the last few iterates so that the residual
// g(x) − x is as small as a linear model of them predicts: a multisecant quasi-Newton method that
// also finds fixed points that plain iteration is repelled from. Cost: one g(x) per step plus an
// M×M least-squares problem.

export class Anderson {
  private dF: Float64Array[] = []; // differences of successive residuals f = g(x) − x
  private dG: Float64Array[] = []; // differences of successive g(x)
  private lastF: Float64Array | null = null;
  private lastG: Float64Array | null = null;

  /** memory: how many past steps to combine; mix: the damping β (1 = undamped). */
  constructor(private readonly memory: number, private readonly mix: number) {}

  /** Given x and g(x), the next iterate: ḡ − (1 − β) f̄, where ḡ, f̄ are the least-squares combinations. */
  next(x: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
    const n = x.length;
    const f = new Float64Array(n);
    for (let i = 0; i < n; i++) f[i] = g[i] - x[i];
    const gNow = Float64Array.from(g);
    if (this.lastF && this.lastG) {
      this.dF.push(f.map((v, i) => v - this.lastF![i]));
      this.dG.push(gNow.map((v, i) => v - this.lastG![i]));
      if (this.dF.length > this.memory) {
        this.dF.shift();
        this.dG.shift();
      }
    }
    this.lastF = f;
    this.lastG = gNow;
    // γ = argmin ‖f − ΔF γ‖ by the normal equations, with a tiny ridge against near-parallel columns
    const m = this.dF.length;
    const A = this.dF.map((a) => this.dF.map((b) => dot(a, b)));
    const rhs = this.dF.map((a) => dot(a, f));
    const trace = A.reduce((s, row, i) => s + row[i], 0);
    for (let i = 0; i < m; i++) A[i][i] += 1e-12 * trace + 1e-300;
    const gamma = solve(A, rhs);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let gi = gNow[i], fi = f[i];
      for (let k = 0; k < m; k++) {
        gi -= gamma[k] * this.dG[k][i];
        fi -= gamma[k] * this.dF[k][i];
      }
      out[i] = gi - (1 - this.mix) * fi;
    }
    return out;
  }

  /** Forgets the history (after the iterate jumped, e.g. to new initial weights). */
  reset(): void {
    this.dF = [];
    this.dG = [];
    this.lastF = this.lastG = null;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Solves the small system A x = b by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const m = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < m; r++) {
      const k = M[r][c] / M[c][c];
      for (let j = c; j <= m; j++) M[r][j] -= k * M[c][j];
    }
  }
  const x = new Array<number>(m).fill(0);
  for (let r = m - 1; r >= 0; r--) {
    let s = M[r][m];
    for (let j = r + 1; j < m; j++) s -= M[r][j] * x[j];
    x[r] = s / M[r][r];
  }
  return x;
}
