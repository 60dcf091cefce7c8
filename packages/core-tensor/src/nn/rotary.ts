import { tf } from '../backend';

/**
 * Rotary position embedding (Su et al. 2021, RoFormer eq. 34) in the "rotate half" layout used by Llama and
 * Hugging Face checkpoints: dimension i pairs with i + headDim/2, so loaded weights keep their meaning.
 */
export class RotaryEmbedding {
  private cache: { length: number; cos: tf.Tensor2D; sin: tf.Tensor2D } | undefined;

  constructor(
    readonly headDim: number,
    readonly base = 10_000,
  ) {
    if (headDim % 2 !== 0) throw new Error(`RotaryEmbedding: headDim must be even, got ${headDim}`);
  }

  /** cos and sin tables `[length, headDim]`, kept (outside any tidy) and grown on demand. */
  private tables(length: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    if (!this.cache || this.cache.length < length) {
      this.cache?.cos.dispose();
      this.cache?.sin.dispose();
      const half = this.headDim / 2;
      const cos = new Float32Array(length * this.headDim);
      const sin = new Float32Array(length * this.headDim);
      for (let position = 0; position < length; position++) {
        for (let i = 0; i < half; i++) {
          const angle = position / this.base ** ((2 * i) / this.headDim);
          for (const column of [i, i + half]) {
            cos[position * this.headDim + column] = Math.cos(angle);
            sin[position * this.headDim + column] = Math.sin(angle);
          }
        }
      }
      this.cache = {
        length,
        cos: tf.keep(tf.tensor2d(cos, [length, this.headDim])),
        sin: tf.keep(tf.tensor2d(sin, [length, this.headDim])),
      };
    }
    return this.cache;
  }

  /**
   * @param x `[batch, heads, tokens, headDim]`
   * @param positionOffset position of the first token (for cached decoding)
   * @returns `[batch, heads, tokens, headDim]`, each pair rotated by its position's angle
   */
  apply(x: tf.Tensor4D, positionOffset = 0): tf.Tensor4D {
    const tokens = x.shape[2];
    const { cos, sin } = this.tables(positionOffset + tokens);
    const cosSlice = tf.slice(cos, [positionOffset, 0], [tokens, this.headDim]);
    const sinSlice = tf.slice(sin, [positionOffset, 0], [tokens, this.headDim]);
    const half = this.headDim / 2;
    const first = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
    const second = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
    const rotated = tf.concat([tf.neg(second), first], 3);
    return tf.add(tf.mul(x, cosSlice), tf.mul(rotated, sinSlice)) as tf.Tensor4D;
  }

  dispose(): void {
    this.cache?.cos.dispose();
    this.cache?.sin.dispose();
    this.cache = undefined;
  }
}
