import { Rng } from '@cir/core-tensor';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const AttributeType = onnx.AttributeProto.AttributeType;
/** LayerNormalization needs opset 17; everything else is older. */
const OPSET = 17;
const LAYER_NORM_EPSILON = 1e-5;

/** Sizes of the tiny CLIP graphs. */
export interface TinyClipGraphSizes {
  seed: number;
  vocabularySize: number;
  maxTextLength: number;
  textDim: number;
  visionDim: number;
  projectionDim: number;
  imageSize: number;
  patchSize: number;
}

/**
 * The tiny CLIP text tower, with the input and output names of an optimum / Xenova `text_model.onnx` export of
 * CLIPTextModelWithProjection. Given input_ids and attention_mask `[batch, sequence]` (int64):
 *
 *   x = token_embedding[input_ids] + position_embedding[0 … sequence)                    [batch, sequence, textDim]
 *   m = attention_mask as float; c_t = Σ_{s≤t} m_s·x_s / Σ_{s≤t} m_s   (causal masked mean, standing in for CLIP's
 *       causal self-attention: a token sees itself and the real tokens before it)
 *   last_hidden_state = LayerNorm(x + tanh(c · mixing + mixing_bias))                    [batch, sequence, textDim]
 *   text_embeds = last_hidden_state[b, Σ_s m_s − 1] · projection  (the EOS token, as CLIP pools)  [batch, projectionDim]
 */
export function tinyClipTextGraph(sizes: TinyClipGraphSizes): Uint8Array {
  const { textDim, projectionDim, vocabularySize, maxTextLength } = sizes;
  const weight = seededWeights(sizes.seed);
  return encodeModel('tiny-clip-text', {
    initializer: [
      weight('text.token_embedding', [vocabularySize, textDim], 0.5),
      weight('text.position_embedding', [maxTextLength, textDim], 0.5),
      weight('text.mixing', [textDim, textDim], 1 / Math.sqrt(textDim)),
      weight('text.mixing_bias', [textDim], 0.1),
      weight('text.final_layer_norm.scale', [textDim], 0.1, 1),
      weight('text.final_layer_norm.bias', [textDim], 0.1),
      weight('text.projection', [textDim, projectionDim], 1 / Math.sqrt(textDim)),
      int64Constant('constant.zero', [1], [0]),
      int64Constant('constant.axes_0', [1], [0]),
      int64Constant('constant.axes_1', [1], [1]),
      int64Constant('constant.axes_2', [1], [2]),
      int64Constant('constant.axis_1', [], [1]),
      int64Constant('constant.one', [], [1]),
    ],
    node: [
      node('Gather', ['text.token_embedding', 'input_ids'], ['token_vectors']),
      node('Shape', ['input_ids'], ['sequence_length'], [intAttribute('start', 1), intAttribute('end', 2)]),
      node(
        'Slice',
        ['text.position_embedding', 'constant.zero', 'sequence_length', 'constant.axes_0'],
        ['position_vectors'],
      ),
      node('Add', ['token_vectors', 'position_vectors'], ['embeddings']),
      node('Cast', ['attention_mask'], ['mask'], [intAttribute('to', FLOAT)]),
      node('Unsqueeze', ['mask', 'constant.axes_2'], ['mask_column']),
      node('Mul', ['embeddings', 'mask_column'], ['masked_embeddings']),
      node('CumSum', ['masked_embeddings', 'constant.axis_1'], ['running_sum']),
      node('CumSum', ['mask_column', 'constant.axis_1'], ['running_count']),
      node('Div', ['running_sum', 'running_count'], ['causal_mean']),
      ...mixingNodes('text', 'causal_mean', 'embeddings', 'mixed'),
      layerNormNode('text.final_layer_norm', 'mixed', 'last_hidden_state'),
      node('ReduceSum', ['attention_mask', 'constant.axes_1'], ['lengths'], [intAttribute('keepdims', 1)]),
      node('Sub', ['lengths', 'constant.one'], ['eos_positions']),
      node(
        'GatherND',
        ['last_hidden_state', 'eos_positions'],
        ['pooled_output'],
        [intAttribute('batch_dims', 1)],
      ),
      node('MatMul', ['pooled_output', 'text.projection'], ['text_embeds']),
    ],
    input: [
      valueInfo('input_ids', INT64, ['batch_size', 'sequence_length']),
      valueInfo('attention_mask', INT64, ['batch_size', 'sequence_length']),
    ],
    output: [
      valueInfo('text_embeds', FLOAT, ['batch_size', projectionDim]),
      valueInfo('last_hidden_state', FLOAT, ['batch_size', 'sequence_length', textDim]),
    ],
  });
}

/**
 * The tiny CLIP vision tower, with the names of a `vision_model.onnx` export of CLIPVisionModelWithProjection.
 * Given pixel_values `[batch, 3, imageSize, imageSize]`:
 *
 *   patches = Conv(pixel_values, patch_embedding, kernel = stride = patchSize), flattened row-major  [batch, P, visionDim]
 *   x = [class_embedding; patches] + position_embedding                                [batch, P + 1, visionDim]
 *   last_hidden_state = x + tanh((x + mean over tokens of x) · mixing + mixing_bias)   [batch, P + 1, visionDim]
 *   image_embeds = LayerNorm(last_hidden_state[:, 0]) · projection  (CLIP's post-layernorm on the class token)
 *                                                                                       [batch, projectionDim]
 */
export function tinyClipVisionGraph(sizes: TinyClipGraphSizes): Uint8Array {
  const { visionDim, projectionDim, imageSize, patchSize } = sizes;
  const patchCount = (imageSize / patchSize) ** 2;
  const weight = seededWeights(sizes.seed);
  return encodeModel('tiny-clip-vision', {
    initializer: [
      weight(
        'vision.patch_embedding',
        [visionDim, 3, patchSize, patchSize],
        1 / Math.sqrt(3 * patchSize * patchSize),
      ),
      weight('vision.class_embedding', [1, 1, visionDim], 0.5),
      weight('vision.position_embedding', [patchCount + 1, visionDim], 0.5),
      weight('vision.mixing', [visionDim, visionDim], 1 / Math.sqrt(visionDim)),
      weight('vision.mixing_bias', [visionDim], 0.1),
      weight('vision.post_layer_norm.scale', [visionDim], 0.1, 1),
      weight('vision.post_layer_norm.bias', [visionDim], 0.1),
      weight('vision.projection', [visionDim, projectionDim], 1 / Math.sqrt(visionDim)),
      int64Constant('constant.grid_to_rows', [3], [0, visionDim, -1]),
      int64Constant('constant.class_shape_tail', [2], [1, visionDim]),
      int64Constant('constant.class_index', [], [0]),
    ],
    node: [
      node(
        'Conv',
        ['pixel_values', 'vision.patch_embedding'],
        ['patch_grid'],
        [
          intsAttribute('kernel_shape', [patchSize, patchSize]),
          intsAttribute('strides', [patchSize, patchSize]),
        ],
      ),
      node('Reshape', ['patch_grid', 'constant.grid_to_rows'], ['patch_columns']),
      node('Transpose', ['patch_columns'], ['patch_vectors'], [intsAttribute('perm', [0, 2, 1])]),
      node('Shape', ['pixel_values'], ['batch_size'], [intAttribute('start', 0), intAttribute('end', 1)]),
      node('Concat', ['batch_size', 'constant.class_shape_tail'], ['class_shape'], [intAttribute('axis', 0)]),
      node('Expand', ['vision.class_embedding', 'class_shape'], ['class_vectors']),
      node('Concat', ['class_vectors', 'patch_vectors'], ['token_vectors'], [intAttribute('axis', 1)]),
      node('Add', ['token_vectors', 'vision.position_embedding'], ['embeddings']),
      node(
        'ReduceMean',
        ['embeddings'],
        ['token_mean'],
        [intsAttribute('axes', [1]), intAttribute('keepdims', 1)],
      ),
      node('Add', ['embeddings', 'token_mean'], ['context']),
      ...mixingNodes('vision', 'context', 'embeddings', 'last_hidden_state'),
      node(
        'Gather',
        ['last_hidden_state', 'constant.class_index'],
        ['class_output'],
        [intAttribute('axis', 1)],
      ),
      layerNormNode('vision.post_layer_norm', 'class_output', 'pooled_output'),
      node('MatMul', ['pooled_output', 'vision.projection'], ['image_embeds']),
    ],
    input: [valueInfo('pixel_values', FLOAT, ['batch_size', 3, imageSize, imageSize])],
    output: [
      valueInfo('image_embeds', FLOAT, ['batch_size', projectionDim]),
      valueInfo('last_hidden_state', FLOAT, ['batch_size', patchCount + 1, visionDim]),
    ],
  });
}

/** residual + tanh(input · mixing + mixing_bias), the one "layer" of each tower. */
function mixingNodes(
  prefix: string,
  input: string,
  residual: string,
  output: string,
): onnxProto.onnx.INodeProto[] {
  return [
    node('MatMul', [input, `${prefix}.mixing`], [`${prefix}.mixing_product`]),
    node('Add', [`${prefix}.mixing_product`, `${prefix}.mixing_bias`], [`${prefix}.mixing_preactivation`]),
    node('Tanh', [`${prefix}.mixing_preactivation`], [`${prefix}.mixing_activation`]),
    node('Add', [residual, `${prefix}.mixing_activation`], [output]),
  ];
}

function layerNormNode(prefix: string, input: string, output: string): onnxProto.onnx.INodeProto {
  return node(
    'LayerNormalization',
    [input, `${prefix}.scale`, `${prefix}.bias`],
    [output],
    [intAttribute('axis', -1), { name: 'epsilon', type: AttributeType.FLOAT, f: LAYER_NORM_EPSILON }],
  );
}

/**
 * Float32 initializers of normal samples, each seeded by the graph seed and the tensor's name, so that adding or
 * reordering tensors never changes the others.
 */
function seededWeights(seed: number) {
  return (name: string, dims: number[], std: number, mean = 0): onnxProto.onnx.ITensorProto => {
    const count = dims.reduce((product, size) => product * size, 1);
    const values = new Rng(`${seed}/${name}`).normalArray(count, mean, std);
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((value, index) => {
      view.setFloat32(index * 4, value, true);
    });
    return { name, dims, dataType: FLOAT, rawData: bytes };
  };
}

function int64Constant(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => {
    view.setBigInt64(index * 8, BigInt(value), true);
  });
  return { name, dims, dataType: INT64, rawData: bytes };
}

function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: onnxProto.onnx.IAttributeProto[] = [],
): onnxProto.onnx.INodeProto {
  return { opType, input, output, attribute, name: output[0] };
}

function intAttribute(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: AttributeType.INT, i: value };
}

function intsAttribute(name: string, values: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: AttributeType.INTS, ints: values };
}

/** A tensor graph input or output; string dimensions are symbolic (free) ones. */
function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function encodeModel(name: string, graph: Omit<onnxProto.onnx.IGraphProto, 'name'>): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: '@cir/encoders writeTinyClipFolder',
    graph: { name, ...graph },
  }).finish();
}
