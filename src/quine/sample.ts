// Greedy decoding: from the boundary symbol, always take the most likely next symbol.
import { rt } from "./deps";
import type { QuineModel } from "neural-quine/runtime";

/**
 * Decodes until the model emits the boundary symbol again (or `limit` symbols). Returns the text
 * and the smallest margin by which a chosen symbol's logit beat the runner-up: a wide margin means
 * float noise on another backend cannot flip a choice.
 */
export function decodeGreedy(model: QuineModel, limit: number): { text: string; minMargin: number } {
  const stepper = rt.lstmStepper(model.weights, model.features);
  let text = "";
  let minMargin = Infinity;
  for (let token = 0, n = 0; n <= limit; n++) {
    const { best, margin } = rt.greedyChoice(stepper.next(token));
    minMargin = Math.min(minMargin, margin);
    if (best === 0) break;
    text += model.vocab[best];
    token = best;
  }
  stepper.dispose();
  return { text, minMargin };
}
