import { Linear, Module, type Rng, tf, toRng } from '@cir/core-tensor';

export interface GruCellOptions {
  seed?: number | Rng;
}

/**
 * A gated recurrent unit (Cho et al. 2014, the PyTorch `GRUCell` form) applied token by token with shared weights:
 *
 *   z = σ(W_z x + b_xz + U_z h + b_hz)              update gate
 *   r = σ(W_r x + b_xr + U_r h + b_hr)              reset gate
 *   c = tanh(W_c x + b_xc + r ⊙ (U_c h + b_hc))     candidate
 *   h' = (1 − z) ⊙ c + z ⊙ h
 *
 * The three input maps are one `Linear(dim, 3·dim)`, the three hidden maps another, so a step costs two matMuls.
 * This is the learned baseline that MIO replaces (MAI Table 5: LSTM / GRU memories).
 */
export class GruCell extends Module {
  readonly inputProjection: Linear;
  readonly hiddenProjection: Linear;

  constructor(
    readonly dim: number,
    options: GruCellOptions = {},
  ) {
    super();
    const rng = toRng(options.seed, `gru-cell-${dim}`);
    this.inputProjection = this.addModule('inputProjection', new Linear(dim, 3 * dim, { seed: rng }));
    this.hiddenProjection = this.addModule('hiddenProjection', new Linear(dim, 3 * dim, { seed: rng }));
  }

  /** Parameters of a cell of width `dim`: two `[dim, 3·dim]` weights and two `[3·dim]` biases. */
  static parameterCount(dim: number): number {
    return 2 * (3 * dim * dim + 3 * dim);
  }

  /**
   * @param input `[..., dim]`
   * @param hidden `[..., dim]`, same shape as `input`
   * @returns the next hidden state, `[..., dim]`
   */
  apply(input: tf.Tensor, hidden: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [inputUpdate, inputReset, inputCandidate] = tf.split(this.inputProjection.apply(input), 3, -1);
      const [hiddenUpdate, hiddenReset, hiddenCandidate] = tf.split(
        this.hiddenProjection.apply(hidden),
        3,
        -1,
      );
      const update = tf.sigmoid(tf.add(inputUpdate, hiddenUpdate));
      const reset = tf.sigmoid(tf.add(inputReset, hiddenReset));
      const candidate = tf.tanh(tf.add(inputCandidate, tf.mul(reset, hiddenCandidate)));
      return tf.add(tf.mul(tf.sub(1, update), candidate), tf.mul(update, hidden));
    });
  }
}
