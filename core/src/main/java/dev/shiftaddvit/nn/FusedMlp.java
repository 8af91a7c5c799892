package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Gelu;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.kernel.RowBlocks;
import dev.shiftaddvit.kernel.ThreadScratch;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.tensor.Tensor;

/**
 * Inference of fc1 → GELU → fc2 ({@link RowLinear} projections: dense, or deployed shift-only), with
 * the block's LayerNorm before it and its residual add after it where the block asks, one block of rows per task ({@link RowBlocks}): a block's hidden
 * rows (at most {@link RowBlocks#MAX_ROWS} × hidden) stay in its core's L2 instead of a model-wide
 * array (19 MB at batch 32 of DeiT-Tiny), and the seven fork-joins of the layer-by-layer path
 * (LayerNorm, two GEMMs, two bias adds, GELU, the residual add) become one.
 *
 * <p>Every row gets the bits of the layer-by-layer path: the GEMMs take the path of the whole
 * product ({@link RowLinear#forwardRows}), the bias is added after the product as there, and GELU sees
 * whole vectors only (hidden is a multiple of the vector length, so no element falls to the scalar
 * tail). The per-layer profile keeps the layer-by-layer path, whose rows it names.
 */
final class FusedMlp {
    private FusedMlp() {
    }

    /** Whether an MLP's inference on x can run fused ({@link Linear#rowBlocked}). */
    static boolean applies(Layer fc1, Layer fc2, Tensor x) {
        if (!(fc1 instanceof RowLinear l1) || !(fc2 instanceof RowLinear l2)) return false;
        return l1.forwardsRows() && l2.forwardsRows() && l1.out() == l2.in()
                && l1.out() % VectorWidth.FLOAT.length() == 0 && x.dim(-1) == l1.in()
                && Linear.rowBlocked(x.size() / l1.in());
    }

    /** residual ? x + fc2(gelu(fc1(norm(x)))) : fc2(gelu(fc1(norm(x)))), norm skipped when null. */
    static Tensor forward(LayerNorm norm, RowLinear fc1, RowLinear fc2, Tensor x, boolean residual) {
        int in = fc1.in();
        int hidden = fc1.out();
        int out = fc2.out();
        int rows = x.size() / in;
        int[] shape = x.shape();
        shape[shape.length - 1] = out;
        Tensor y = Tensor.zeros(shape);
        float[] xd = x.data();
        float[] yd = y.data();
        int block = RowBlocks.height(rows);
        RowBlocks.run(rows, (r0, m) -> {
            float[] h = HIDDEN.get(block * hidden);
            float[] src = xd;
            int srcOff = r0 * in;
            if (norm != null) {
                src = NORMED.get(block * in);
                srcOff = 0;
                norm.forwardRows(xd, r0 * in, src, 0, m);
            }
            fc1.forwardRows(rows, m, src, srcOff, h, 0);
            Gelu.forward(h, 0, h, 0, m * hidden);
            fc2.forwardRows(rows, m, h, 0, yd, r0 * out);
            if (residual) Ops.addInPlace(yd, r0 * out, xd, r0 * in, m * out);
        });
        return y;
    }

    /**
     * The PVTv2 MLP, x + fc2(gelu(dwconv(fc1(norm(x))))), at inference: the depthwise conv needs every
     * token of an image, so it runs on its own between two row-blocked jobs (LayerNorm + fc1 + bias;
     * GELU + fc2 + bias + residual); the same bits as the layer-by-layer path.
     */
    static Tensor forwardAroundConv(LayerNorm norm, RowLinear fc1, DwConv dwconv, RowLinear fc2, Tensor x) {
        int in = fc1.in();
        int hidden = fc1.out();
        int out = fc2.out();
        int rows = x.size() / in;
        int[] hShape = x.shape();
        hShape[hShape.length - 1] = hidden;
        Tensor h = Tensor.zeros(hShape);
        float[] xd = x.data();
        float[] hd = h.data();
        int block = RowBlocks.height(rows);
        RowBlocks.run(rows, (r0, m) -> {
            float[] normed = NORMED.get(block * in);
            norm.forwardRows(xd, r0 * in, normed, 0, m);
            fc1.forwardRows(rows, m, normed, 0, hd, r0 * hidden);
        });
        float[] cd = dwconv.forward(h, false).data();
        int[] shape = x.shape();
        shape[shape.length - 1] = out;
        Tensor y = Tensor.zeros(shape);
        float[] yd = y.data();
        RowBlocks.run(rows, (r0, m) -> {
            float[] g = HIDDEN.get(block * hidden);
            Gelu.forward(cd, r0 * hidden, g, 0, m * hidden);
            fc2.forwardRows(rows, m, g, 0, yd, r0 * out);
            Ops.addInPlace(yd, r0 * out, xd, r0 * in, m * out);
        });
        return y;
    }

    /** Per-thread hidden rows of one block. */
    private static final ThreadScratch HIDDEN = new ThreadScratch();
    /** Per-thread normalised input rows of one block. */
    private static final ThreadScratch NORMED = new ThreadScratch();
}
