package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.kernel.RowBlocks;
import dev.shiftaddvit.tensor.Tensor;

/**
 * An attention layer that can run a block's x + attn(norm(x)) at inference with the LayerNorm and its
 * input projections, and its output projection and the residual add, one row block per task, with the
 * bits of the layer-by-layer path ({@link Block} asks it first).
 */
public interface NormResidualAttention extends Layer {
    /** x + attn(norm(x)) at inference, or null where the fused path does not apply. */
    Tensor forwardNormResidual(LayerNorm norm, Tensor x);

    /**
     * The closing job of the fused path: x + proj(attended) one row block per task, with attended and x
     * [rows, proj.out()] and proj square.
     */
    static Tensor projectAndAdd(RowLinear proj, float[] attended, Tensor x) {
        int dim = proj.out();
        int rows = x.size() / dim;
        Tensor y = Tensor.zeros(x.shape());
        float[] xd = x.data();
        float[] yd = y.data();
        RowBlocks.run(rows, (r0, m) -> {
            proj.forwardRows(rows, m, attended, r0 * proj.in(), yd, r0 * dim);
            Ops.addInPlace(yd, r0 * dim, xd, r0 * dim, m * dim);
        });
        return y;
    }
}
