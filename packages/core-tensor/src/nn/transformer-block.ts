import { tf } from '../backend';
import {
  FrozenCrossAttention,
  FrozenFeedForward,
  FrozenLayerNorm,
  FrozenPreNormBlock,
  FrozenSelfAttention,
} from '../inference/frozen';
import type { CrossBlockParts, PreNormBlockParts } from '../inference/native-block';
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
   * The block's weights for the frozen paths: bidirectional blocks with LayerNorm and GELU only (causal masking is
   * not applied by them). With cross-attention, parts for `NativePreNormBlock` (onnxruntime only).
   */
  frozenParts(): PreNormBlockParts | CrossBlockParts {
    const { self, cross, feedForward } = this.norms;
    const layerNorms = [self, cross ?? self, feedForward].every((norm) => norm instanceof LayerNorm);
    if (!layerNorms) throw new Error('TransformerBlock: only blocks with LayerNorm can be frozen');
    const parts = {
      selfNorm: new FrozenLayerNorm(self as LayerNorm),
      selfAttention: new FrozenSelfAttention(this.selfAttention),
      feedForwardNorm: new FrozenLayerNorm(feedForward as LayerNorm),
      feedForward: new FrozenFeedForward(this.feedForward),
    };
    return this.crossAttention
      ? {
          ...parts,
          cross: {
            norm: new FrozenLayerNorm(cross as LayerNorm),
            attention: new FrozenCrossAttention(this.crossAttention),
          },
        }
      : parts;
  }

  /** The block's forward on Float32Arrays, for serving (`FrozenPreNormBlock`): self-attention blocks only. */
  freeze(): FrozenPreNormBlock {
    const parts = this.frozenParts();
    if ('cross' in parts) {
      throw new Error(
        'TransformerBlock.freeze: a block with cross-attention runs as a NativePreNormBlock only',
      );
    }
    return new FrozenPreNormBlock(parts);
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
