/**
 * Embedding vectors kept as int8 with one scale per vector: a quarter of float32's memory (100k x
 * 256 is 25.6 MB) and exact enough for ranking. All vectors live in one contiguous Int8Array so a
 * query is a single linear scan (no index structure to build, update or corrupt); at 100k chunks
 * that scan is the whole vector half of the search budget, so it runs in WebAssembly SIMD
 * (simdDot.ts) over a matrix that lives in the module's memory.
 */
import { loadSimdDot, type DotsFunction } from './simdDot';

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
  /** Bytes per row: the dimension rounded up to 16 for SIMD (the padding stays zero). */
  private readonly stride: number;
  private capacity = 0;
  private memory!: WebAssembly.Memory;
  private dots: DotsFunction | undefined;
  /** Views into `memory`: [query | scores (int32 per row) | rows]. */
  private query!: Int8Array;
  private scores!: Int32Array;
  private data!: Int8Array;
  private scoresOffset = 0;
  private dataOffset = 0;
  /** 1 / norm of each int8 row: a dot product times this (and the query's) is the cosine. */
  private factors = new Float32Array(0);
  private ids = new Int32Array(0);
  private files = new Int32Array(0);
  private count = 0;
  private readonly rowOf = new Map<number, number>();

  constructor(
    readonly dimension: number,
    capacity = 1024,
    /** Plain loops instead of WebAssembly SIMD (for tests of the fallback). */
    private readonly useSimd = true,
  ) {
    this.stride = Math.ceil(dimension / 16) * 16;
    this.allocate(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  /** Whether scans run in WebAssembly SIMD. */
  get simd(): boolean {
    return this.dots !== undefined;
  }

  /** Bytes held by the matrix (for status and memory budgets). */
  get byteLength(): number {
    return this.memory.buffer.byteLength + this.factors.byteLength + this.ids.byteLength + this.files.byteLength;
  }

  /** Makes room for `rows` rows at once (before loading a known number of them). */
  reserve(rows: number): void {
    if (rows > this.capacity) this.allocate(rows);
  }

  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  set(id: number, fileId: number, vector: QuantizedVector): void {
    if (vector.data.length !== this.dimension) throw new Error(`vector of ${vector.data.length} values in a ${this.dimension}-dimension index`);
    let row = this.rowOf.get(id);
    if (row === undefined) {
      if (this.count === this.capacity) this.allocate(this.capacity * 2);
      row = this.count++;
      this.rowOf.set(id, row);
    }
    this.data.set(vector.data, row * this.stride);
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
      const d = this.stride;
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
   * The query is quantised to int8 like the rows, so the scan is integer arithmetic throughout.
   */
  nearest(query: Float32Array, k: number, acceptFile?: (fileId: number) => boolean): VectorHit[] {
    const d = this.dimension;
    if (k <= 0 || this.count === 0) return [];
    if (query.length !== d) throw new Error(`query of ${query.length} values in a ${d}-dimension index`);
    const quantized = quantize(query).data;
    this.query.fill(0);
    this.query.set(quantized);
    let norm = 0;
    for (let i = 0; i < d; i++) norm += (quantized[i] as number) * (quantized[i] as number);
    const queryFactor = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    this.scanDots();
    // Best k so far, kept sorted ascending by score in two parallel arrays (k is small).
    const topScores = new Float64Array(k).fill(-Infinity);
    const topIds = new Int32Array(k);
    let filled = 0;
    const { scores, factors } = this;
    for (let row = 0; row < this.count; row++) {
      const score = (scores[row] as number) * (factors[row] as number);
      if (filled === k && score <= (topScores[0] as number)) continue;
      if (acceptFile && !acceptFile(this.files[row] as number)) continue;
      if (filled < k) filled++;
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
    for (let j = k - 1; j >= k - filled; j--) hits.push({ id: topIds[j] as number, score: (topScores[j] as number) * queryFactor });
    return hits;
  }

  /** scores[row] = query . row for every row. */
  private scanDots(): void {
    if (this.dots) {
      this.dots(0, this.dataOffset, this.count, this.stride, this.scoresOffset);
      return;
    }
    const { query, data, scores, stride } = this;
    for (let row = 0; row < this.count; row++) {
      const base = row * stride;
      let dot0 = 0, dot1 = 0, dot2 = 0, dot3 = 0;
      for (let i = 0; i < stride; i += 4) {
        dot0 = (dot0 + (query[i] as number) * (data[base + i] as number)) | 0;
        dot1 = (dot1 + (query[i + 1] as number) * (data[base + i + 1] as number)) | 0;
        dot2 = (dot2 + (query[i + 2] as number) * (data[base + i + 2] as number)) | 0;
        dot3 = (dot3 + (query[i + 3] as number) * (data[base + i + 3] as number)) | 0;
      }
      scores[row] = dot0 + dot1 + dot2 + dot3;
    }
  }

  /** (Re)allocates for `capacity` rows, keeping the rows held. */
  private allocate(capacity: number): void {
    const scoresOffset = this.stride;
    const dataOffset = align16(scoresOffset + capacity * 4);
    const bytes = dataOffset + capacity * this.stride;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    const data = new Int8Array(memory.buffer, dataOffset, capacity * this.stride);
    if (this.capacity > 0) data.set(this.data.subarray(0, this.count * this.stride));
    this.memory = memory;
    this.dots = this.useSimd ? loadSimdDot(memory) : undefined;
    this.query = new Int8Array(memory.buffer, 0, this.stride);
    this.scores = new Int32Array(memory.buffer, scoresOffset, capacity);
    this.data = data;
    this.scoresOffset = scoresOffset;
    this.dataOffset = dataOffset;
    const grow = <T extends Float32Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old.subarray(0, this.count));
      return next;
    };
    this.factors = grow(this.factors, (n) => new Float32Array(n));
    this.ids = grow(this.ids, (n) => new Int32Array(n));
    this.files = grow(this.files, (n) => new Int32Array(n));
    this.capacity = capacity;
  }
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
