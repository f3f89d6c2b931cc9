/**
 * Embedding vectors kept as int8 with one scale per vector: a quarter of float32's memory (100k x
 * 256 is 25.6 MB) and exact enough for ranking. All vectors live in one contiguous Int8Array so a
 * query is a single linear scan (no index structure to build, update or corrupt); at 100k chunks
 * that scan is the whole vector half of the search budget.
 */

export interface QuantizedVector {
  data: Int8Array;
  /** value[i] ~= data[i] * scale */
  scale: number;
}

export function quantize(vector: Float32Array): QuantizedVector {
  let max = 0;
  for (let i = 0; i < vector.length; i++) max = Math.max(max, Math.abs(vector[i] as number));
  const scale = max > 0 ? max / 127 : 1;
  const data = new Int8Array(vector.length);
  for (let i = 0; i < vector.length; i++) data[i] = Math.round((vector[i] as number) / scale);
  return { data, scale };
}

export function dequantize({ data, scale }: QuantizedVector): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] as number) * scale;
  return out;
}

export interface VectorHit {
  id: number;
  score: number;
}

/** Rows of int8 vectors keyed by chunk id, with the owning file id for filters. */
export class VectorMatrix {
  private data: Int8Array;
  /** scale / norm of the dequantised row: a dot product times this is the cosine. */
  private factors: Float32Array;
  private ids: Int32Array;
  private files: Int32Array;
  private count = 0;
  private readonly rowOf = new Map<number, number>();

  constructor(
    readonly dimension: number,
    capacity = 1024,
  ) {
    this.data = new Int8Array(capacity * dimension);
    this.factors = new Float32Array(capacity);
    this.ids = new Int32Array(capacity);
    this.files = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the matrix (for status and memory budgets). */
  get byteLength(): number {
    return this.data.byteLength + this.factors.byteLength + this.ids.byteLength + this.files.byteLength;
  }

  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  set(id: number, fileId: number, vector: QuantizedVector): void {
    if (vector.data.length !== this.dimension) throw new Error(`vector of ${vector.data.length} values in a ${this.dimension}-dimension index`);
    let row = this.rowOf.get(id);
    if (row === undefined) {
      if (this.count === this.ids.length) this.grow();
      row = this.count++;
      this.rowOf.set(id, row);
    }
    this.data.set(vector.data, row * this.dimension);
    let norm = 0;
    for (let i = 0; i < vector.data.length; i++) norm += (vector.data[i] as number) * (vector.data[i] as number);
    this.factors[row] = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    this.ids[row] = id;
    this.files[row] = fileId;
  }

  /** Removes a row by moving the last row into its place: O(dimension). */
  delete(id: number): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const last = --this.count;
    if (row !== last) {
      const d = this.dimension;
      this.data.copyWithin(row * d, last * d, last * d + d);
      this.factors[row] = this.factors[last] as number;
      this.ids[row] = this.ids[last] as number;
      this.files[row] = this.files[last] as number;
      this.rowOf.set(this.ids[row] as number, row);
    }
    this.rowOf.delete(id);
    return true;
  }

  clear(): void {
    this.count = 0;
    this.rowOf.clear();
  }

  /**
   * The k rows most similar to `query` by cosine, best first; `acceptFile` filters by file id.
   * The query need not be normalised (ranking is the same), but then scores are not cosines.
   */
  nearest(query: Float32Array, k: number, acceptFile?: (fileId: number) => boolean): VectorHit[] {
    const d = this.dimension;
    if (k <= 0 || this.count === 0) return [];
    if (query.length !== d) throw new Error(`query of ${query.length} values in a ${d}-dimension index`);
    let norm = 0;
    for (let i = 0; i < d; i++) norm += (query[i] as number) * (query[i] as number);
    const queryFactor = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    // Best k so far, kept sorted ascending by score in two parallel arrays (k is small).
    const topScores = new Float64Array(k).fill(-Infinity);
    const topIds = new Int32Array(k);
    let filled = 0;
    const data = this.data;
    for (let row = 0; row < this.count; row++) {
      if (acceptFile && !acceptFile(this.files[row] as number)) continue;
      const base = row * d;
      let dot0 = 0, dot1 = 0, dot2 = 0, dot3 = 0;
      let i = 0;
      for (; i + 3 < d; i += 4) {
        dot0 += (query[i] as number) * (data[base + i] as number);
        dot1 += (query[i + 1] as number) * (data[base + i + 1] as number);
        dot2 += (query[i + 2] as number) * (data[base + i + 2] as number);
        dot3 += (query[i + 3] as number) * (data[base + i + 3] as number);
      }
      for (; i < d; i++) dot0 += (query[i] as number) * (data[base + i] as number);
      const score = (dot0 + dot1 + dot2 + dot3) * (this.factors[row] as number) * queryFactor;
      if (filled < k) filled++;
      else if (score <= (topScores[0] as number)) continue;
      // Insert into the ascending list, dropping the smallest.
      let j = 0;
      while (j + 1 < k && (topScores[j + 1] as number) < score) {
        topScores[j] = topScores[j + 1] as number;
        topIds[j] = topIds[j + 1] as number;
        j++;
      }
      topScores[j] = score;
      topIds[j] = this.ids[row] as number;
    }
    const hits: VectorHit[] = [];
    for (let j = k - 1; j >= k - filled; j--) hits.push({ id: topIds[j] as number, score: topScores[j] as number });
    return hits;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.ids.length * 2);
    const data = new Int8Array(capacity * this.dimension);
    data.set(this.data);
    this.data = data;
    const factors = new Float32Array(capacity);
    factors.set(this.factors);
    this.factors = factors;
    const ids = new Int32Array(capacity);
    ids.set(this.ids);
    this.ids = ids;
    const files = new Int32Array(capacity);
    files.set(this.files);
    this.files = files;
  }
}
