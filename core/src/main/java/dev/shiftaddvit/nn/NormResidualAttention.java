package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

/**
 * An attention layer that can run a block's x + attn(norm(x)) at inference with the LayerNorm and its
 * input projections, and its output projection and the residual add, one row block per task, with the
 * bits of the layer-by-layer path ({@link Block} asks it first).
 */
public interface NormResidualAttention extends Layer {
    /** x + attn(norm(x)) at inference, or null where the fused path does not apply. */
    Tensor forwardNormResidual(LayerNorm norm, Tensor x);
}
