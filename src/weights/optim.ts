// Optimizers with PyTorch's update rules and default settings, written out on typed arrays so that
// every variant (tfjs-computed or hand-written) shares them. They update the parameters in place.
// (tfjs's own RMSProp puts epsilon inside the square root, which changes the step once gradients
// are as tiny as a good quine's; these follow torch.optim.)

export const OPTIMIZERS = ["rmsprop", "adam", "adamax", "sgd"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** PyTorch's default learning rate for each optimizer. */
export const DEFAULT_LR: Record<OptimizerName, number> = { rmsprop: 1e-2, adam: 1e-3, adamax: 2e-3, sgd: 1e-2 };

const RMSPROP_ALPHA = 0.99;
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

type Vector = Float32Array | Float64Array;

export interface Optimizer {
  /** One update of params from grad (both of the same length). */
  step(params: Vector, grad: ArrayLike<number>): void;
  /** The learning rate, which the trainer may change between steps (a schedule). */
  lr: number;
}

export function makeOptimizer(name: OptimizerName, initialLr: number, size: number): Optimizer {
  const m = new Float64Array(size); // first moment (adam, adamax) or mean square (rmsprop)
  const v = new Float64Array(size); // second moment (adam) or infinity norm (adamax)
  let t = 0;
  const opt: Optimizer = {
    lr: initialLr,
    step(p, g) {
      const lr = opt.lr;
      t++;
      switch (name) {
        case "sgd":
          for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
          break;
        case "rmsprop":
          for (let i = 0; i < p.length; i++) {
            m[i] = RMSPROP_ALPHA * m[i] + (1 - RMSPROP_ALPHA) * g[i] * g[i];
            p[i] -= (lr * g[i]) / (Math.sqrt(m[i]) + EPS);
          }
          break;
        case "adam": {
          const c1 = 1 - BETA1 ** t;
          const c2 = Math.sqrt(1 - BETA2 ** t);
          for (let i = 0; i < p.length; i++) {
            m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
            v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] * g[i];
            p[i] -= (lr * m[i]) / c1 / (Math.sqrt(v[i]) / c2 + EPS);
          }
          break;
        }
        case "adamax": {
          const c1 = 1 - BETA1 ** t;
          for (let i = 0; i < p.length; i++) {
            m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
            v[i] = Math.max(BETA2 * v[i], Math.abs(g[i]) + EPS);
            p[i] -= (lr / c1) * (m[i] / v[i]);
          }
          break;
        }
      }
    },
  };
  return opt;
}
