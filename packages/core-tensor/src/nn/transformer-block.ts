import { tf } from '../backend';
import {
  FrozenFeedForward,
  FrozenLayerNorm,
  FrozenPreNormBlock,
  FrozenSelfAttention,
} from '../inference/frozen';
import type { Rng } from '../rng';
import { type AttentionCallOptions, MultiHeadAttention } from './attention';
import { FeedForward, type FeedForwardActivation } from './feed-forward';
import { Module, toRng } from './module';
import { LayerNorm, RMSNorm } from './normalization';
import type { RotaryEmbedding } from './rotary';

export interface TransformerBlockOptions {
  dim: number;
  heads: number;
  keyValueHeads?: number;
  /** FFN hidden width as a multiple of dim (4 in the original Transformer). */
  feedForwardMultiplier?: number;
  activation?: FeedForwardActivation;
  norm?: 'layer' | 'rms';
  /** Adds a cross-attention sub-layer (queries from x, keys/values from a context). */
  crossAttention?: boolean;
  contextDim?: number;
  rotary?: RotaryEmbedding;
  bias?: boolean;
  seed?: number | Rng;
}

export interface TransformerBlockCall {
  /** 1 = real token, 0 = padding, over x: `[batch, tokens]`. */
  mask?: tf.Tensor2D;
  causal?: boolean;
  positionOffset?: number;
  /** Cross-attention context `[batch, contextTokens, contextDim]`. */
  context?: tf.Tensor3D;
  /** 1 = real token over the context: `[batch, contextTokens]`. */
  contextMask?: tf.Tensor2D;
}

type Norm = LayerNorm | RMSNorm;

/** Pre-norm transformer block: x + SelfAttn(N(x)) [+ CrossAttn(N(x), context)] + FFN(N(x)). */
export class TransformerBlock extends Module {
  readonly selfAttention: MultiHeadAttention;
  readonly crossAttention: MultiHeadAttention | undefined;
  readonly feedForward: FeedForward;
  private readonly norms: { self: Norm; cross: Norm | undefined; feedForward: Norm };

  constructor(readonly options: TransformerBlockOptions) {
    super();
    const rng = toRng(options.seed, 'transformer-block');
    const makeNorm = (name: string): Norm =>
      this.addModule(name, options.norm === 'rms' ? new RMSNorm(options.dim) : new LayerNorm(options.dim));
    const attentionOptions = {
      dim: options.dim,
      heads: options.heads,
      keyValueHeads: options.keyValueHeads,
      bias: options.bias,
    };
    this.selfAttention = this.addModule(
      'self_attention',
      new MultiHeadAttention({ ...attentionOptions, rotary: options.rotary, seed: rng }),
    );
    this.crossAttention = options.crossAttention
      ? this.addModule(
          'cross_attention',
          new MultiHeadAttention({ ...attentionOptions, contextDim: options.contextDim, seed: rng }),
        )
      : undefined;
    this.feedForward = this.addModule(
      'feed_forward',
      new FeedForward({
        dim: options.dim,
        hiddenDim: Math.round((options.feedForwardMultiplier ?? 4) * options.dim),
        activation: options.activation,
        bias: options.bias,
        seed: rng,
      }),
    );
    this.norms = {
      self: makeNorm('norm_self'),
      cross: options.crossAttention ? makeNorm('norm_cross') : undefined,
      feedForward: makeNorm('norm_feed_forward'),
    };
  }

  /**
   * The block's forward on Float32Arrays, for serving (`FrozenPreNormBlock`); bidirectional self-attention blocks
   * with LayerNorm and GELU only. Causal masking is not applied by the frozen block.
   */
  freeze(): FrozenPreNormBlock {
    const { self, feedForward } = this.norms;
    if (this.crossAttention || !(self instanceof LayerNorm) || !(feedForward instanceof LayerNorm)) {
      throw new Error('TransformerBlock.freeze: only self-attention blocks with LayerNorm can be frozen');
    }
    return new FrozenPreNormBlock({
      selfNorm: new FrozenLayerNorm(self),
      selfAttention: new FrozenSelfAttention(this.selfAttention),
      feedForwardNorm: new FrozenLayerNorm(feedForward),
      feedForward: new FrozenFeedForward(this.feedForward),
    });
  }

  /** @param x `[batch, tokens, dim]` @returns `[batch, tokens, dim]` */
  apply(x: tf.Tensor3D, call: TransformerBlockCall = {}): tf.Tensor3D {
    const selfCall: AttentionCallOptions = {
      keyMask: call.mask,
      causal: call.causal,
      positionOffset: call.positionOffset,
    };
    let hidden = tf.add(x, this.selfAttention.apply(this.norms.self.apply(x) as tf.Tensor3D, selfCall));
    if (this.crossAttention && this.norms.cross) {
      if (!call.context)
        throw new Error('TransformerBlock: this block has cross-attention and needs a context');
      const crossed = this.crossAttention.apply(this.norms.cross.apply(hidden) as tf.Tensor3D, {
        context: call.context,
        keyMask: call.contextMask,
      });
      hidden = tf.add(hidden, crossed);
    }
    return tf.add(hidden, this.feedForward.apply(this.norms.feedForward.apply(hidden))) as tf.Tensor3D;
  }
}
