/** Next-token choice: greedy by default; temperature with nucleus (top-p) sampling when asked. */
export interface SamplingOptions {
  /** 0 (default) is greedy. */
  temperature?: number;
  /** Nucleus mass, 0..1 (default 1: no cut). */
  topP?: number;
  /** Random source in [0, 1), for reproducible tests. */
  random?: () => number;
}

export function argmax(logits: Float32Array, banned?: ReadonlySet<number>): number {
  if (!banned || banned.size === 0) {
    // the loop of every decode step (and of every draft token's row): nothing but the comparison
    const n = logits.length;
    if (n === 0) return -1;
    let best = 0;
    let bestValue = logits[0] as number;
    for (let i = 1; i < n; i++) {
      if ((logits[i] as number) > bestValue) {
        bestValue = logits[i] as number;
        best = i;
      }
    }
    return best;
  }
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i] as number;
    if (v > bestValue && !banned?.has(i)) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

export function sample(logits: Float32Array, options: SamplingOptions = {}, banned?: ReadonlySet<number>): number {
  const temperature = options.temperature ?? 0;
  if (temperature <= 0) return argmax(logits, banned);
  const topP = options.topP ?? 1;
  const random = options.random ?? Math.random;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (!banned?.has(i) && (logits[i] as number) > max) max = logits[i] as number;
  const order: number[] = [];
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    if (banned?.has(i)) continue;
    const p = Math.exp(((logits[i] as number) - max) / temperature);
    probs[i] = p;
    sum += p;
    if (p / sum > 1e-9 || topP >= 1) order.push(i);
  }
  order.sort((a, b) => (probs[b] as number) - (probs[a] as number));
  let kept = order.length;
  if (topP < 1) {
    let mass = 0;
    for (let k = 0; k < order.length; k++) {
      mass += (probs[order[k] as number] as number) / sum;
      if (mass >= topP) {
        kept = k + 1;
        break;
      }
    }
  }
  let keptSum = 0;
  for (let k = 0; k < kept; k++) keptSum += probs[order[k] as number] as number;
  let r = random() * keptSum;
  for (let k = 0; k < kept; k++) {
    r -= probs[order[k] as number] as number;
    if (r <= 0) return order[k] as number;
  }
  return order[kept - 1] as number;
}
