package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.RowBlocks;
import dev.shiftaddvit.kernel.ThreadScratch;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** ViT multi-head self-attention: fused qkv projection (rows Q, K, V), softmax attention, output projection. */
public final class SelfAttention implements NormResidualAttention {
    private final int dim;
    private final Linear qkv;
    private final Linear proj;
    private final ScaledDotProductAttention sdpa;
    private Tensor qkvOut;

    public SelfAttention(String name, int dim, int heads, boolean qkvBias, SplittableRandom rng) {
        if (dim % heads != 0) throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by heads " + heads);
        this.dim = dim;
        this.qkv = new Linear(name + ".qkv", dim, 3 * dim, qkvBias, rng);
        this.proj = new Linear(name + ".proj", dim, dim, true, rng);
        this.sdpa = new ScaledDotProductAttention(name + ".softmax", heads, dim / heads);
    }

    public Linear qkv() {
        return qkv;
    }

    public Linear proj() {
        return proj;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int b = x.dim(0);
        int n = x.dim(1);
        Tensor t = qkv.forward(x, training);
        float[] d = t.data();
        float[] o = sdpa.forward(b, n, n, d, 0, 3 * dim, d, dim, 3 * dim, d, 2 * dim, 3 * dim, training);
        qkvOut = training ? t : null;
        return proj.forward(Tensor.of(o, b, n, dim), training);
    }

    /**
     * x + attn(norm(x)) at inference with norm and qkv, then proj and the residual add, one row block
     * per task ({@link RowBlocks}); the same bits as the block's layer-by-layer path. Null where the
     * fused path does not apply (the caller then runs the layers one by one).
     */
    @Override
    public Tensor forwardNormResidual(LayerNorm norm, Tensor x) {
        if (x.rank() != 3 || x.dim(2) != dim || norm.dim() != dim) return null;
        int b = x.dim(0);
        int n = x.dim(1);
        int rows = b * n;
        if (!Linear.rowBlocked(rows) || !qkv.forwardsRows() || !proj.forwardsRows()) return null;
        float[] xd = x.data();
        float[] t = new float[Math.multiplyExact(rows, 3 * dim)];
        int block = RowBlocks.height(rows);
        RowBlocks.run(rows, (r0, m) -> {
            float[] normed = NORMED.get(block * dim);
            norm.forwardRows(xd, r0 * dim, normed, 0, m);
            qkv.forwardRows(rows, m, normed, 0, t, r0 * 3 * dim);
        });
        float[] o = sdpa.forward(b, n, n, t, 0, 3 * dim, t, dim, 3 * dim, t, 2 * dim, 3 * dim, false);
        qkvOut = null;
        return NormResidualAttention.projectAndAdd(proj, o, x);
    }

    /** Per-thread normalised input rows of one block. */
    private static final ThreadScratch NORMED = new ThreadScratch();

    @Override
    public Tensor backward(Tensor dy) {
        Tensor t = qkvOut;
        int b = t.dim(0);
        int n = t.dim(1);
        Tensor dout = proj.backward(dy);
        float[] d = t.data();
        Tensor dqkv = Tensor.zeros(t.shape());
        float[] g = dqkv.data();
        sdpa.backward(b, n, n, dout.data(), d, 0, 3 * dim, d, dim, 3 * dim, d, 2 * dim, 3 * dim, g, g, g);
        qkvOut = null;
        return qkv.backward(dqkv);
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(qkv.parameters());
        p.addAll(proj.parameters());
        return p;
    }
}
