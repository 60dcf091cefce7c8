import { tf } from '../backend';

/**
 * Scales all gradients together so that their global L2 norm is at most maxNorm (Pascanu et al. 2013), as
 * torch.nn.utils.clip_grad_norm_ does. Returns new tensors (the inputs are disposed) and the norm before clipping.
 */
export function clipGradientsByGlobalNorm(
  gradients: Record<string, tf.Tensor>,
  maxNorm: number,
): { gradients: Record<string, tf.Tensor>; totalNorm: number } {
  const names = Object.keys(gradients);
  if (names.length === 0) return { gradients, totalNorm: 0 };
  const totalNorm = tf.tidy(() =>
    Math.sqrt(tf.addN(names.map((name) => tf.sum(tf.square(gradients[name]!)))).dataSync()[0]!),
  );
  if (!Number.isFinite(totalNorm) || totalNorm <= maxNorm) return { gradients, totalNorm };
  const scale = maxNorm / (totalNorm + 1e-6);
  const clipped: Record<string, tf.Tensor> = {};
  for (const name of names) {
    clipped[name] = tf.mul(gradients[name]!, scale);
    gradients[name]!.dispose();
  }
  return { gradients: clipped, totalNorm };
}
