package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Gelu;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.Tensor;

/**
 * Inference of a dense fc1 → GELU → fc2 one block of rows at a time, each block on one thread
 * from its fc1 to its fc2: the hidden activation of a block (at most {@link #BLOCK_ROWS} × hidden)
 * stays in that core's L2 instead of a model-wide array (19 MB at batch 32 of DeiT-Tiny), and the
 * five fork-joins of the layer-by-layer path (two GEMMs, two bias adds, GELU) become one.
 *
 * <p>Every row gets the bits of the layer-by-layer path: the GEMMs take the path of the whole
 * product ({@link Gemm#ntBlock(int, int, Gemm.PackedB, float[], int, int, float[], int, int, boolean)}),
 * the bias is added after the product as there, and GELU sees whole vectors only (hidden is a
 * multiple of the vector length, so no element falls to the scalar tail). The per-layer profile
 * keeps the layer-by-layer path, whose rows it names.
 */
final class FusedMlp {
    /** Rows per block: Gemm's m block, so a block's A and hidden rows stay in L2. */
    private static final int BLOCK_ROWS = 144;
    private static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("shiftaddvit.mlp.fused", "true"));

    private FusedMlp() {
    }

    /** Whether a dense MLP's inference on x can run fused (the per-layer profile never does). */
    static boolean applies(Layer fc1, Layer fc2, Tensor x) {
        if (!ENABLED || !Linear.PREPACK || Profiler.active()) return false;
        if (!(fc1 instanceof Linear l1) || !(fc2 instanceof Linear l2)) return false;
        return l1.out() == l2.in() && l1.out() % VectorWidth.FLOAT.length() == 0 && x.dim(-1) == l1.in()
                && x.size() / l1.in() > Gemm.DOT_MAX_M;
    }

    static Tensor forward(Linear fc1, Linear fc2, Tensor x) {
        int in = fc1.in();
        int hidden = fc1.out();
        int out = fc2.out();
        int rows = x.size() / in;
        int[] shape = x.shape();
        shape[shape.length - 1] = out;
        Tensor y = Tensor.zeros(shape);
        Gemm.PackedB w1 = fc1.packedWeight();
        Gemm.PackedB w2 = fc2.packedWeight();
        float[] b1 = fc1.bias() == null ? null : fc1.bias().value().data();
        float[] b2 = fc2.bias() == null ? null : fc2.bias().value().data();
        float[] xd = x.data();
        float[] yd = y.data();
        int block = Math.min(BLOCK_ROWS, Math.max(1, (rows + Parallel.threads() - 1) / Parallel.threads()));
        int blocks = (rows + block - 1) / block;
        Parallel.forRange(blocks, 1, (from, to) -> {
            float[] h = HIDDEN.get(block * hidden);
            for (int t = from; t < to; t++) {
                int r0 = t * block;
                int m = Math.min(block, rows - r0);
                Gemm.ntBlock(rows, m, w1, xd, r0 * in, in, h, 0, hidden, false);
                if (b1 != null) addBias(h, 0, b1, m, hidden);
                Gelu.forward(h, h, m * hidden);
                Gemm.ntBlock(rows, m, w2, h, 0, hidden, yd, r0 * out, out, false);
                if (b2 != null) addBias(yd, r0 * out, b2, m, out);
            }
        });
        return y;
    }

    private static void addBias(float[] y, int off, float[] bias, int rows, int cols) {
        for (int r = 0; r < rows; r++) Ops.addInPlace(y, off + r * cols, bias, 0, cols);
    }

    /** Per-thread hidden rows of one block. */
    private static final ThreadScratch HIDDEN = new ThreadScratch();
}
