package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.kernel.RowBlocks;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * PVT attention: queries from every token, keys and values from the token grid reduced by a
 * stride-sr convolution and LayerNorm (sr = 1 means full attention). kv rows are K then V.
 */
public final class SpatialReductionAttention implements NormResidualAttention {
    private final int dim;
    private final int gridH;
    private final int gridW;
    private final Linear q;
    private final Linear kv;
    private final Linear proj;
    private final Conv2d sr;
    private final LayerNorm norm;
    private final ScaledDotProductAttention sdpa;
    private Tensor qOut;
    private Tensor kvOut;

    public SpatialReductionAttention(String name, int dim, int heads, int gridH, int gridW, int srRatio,
                                     boolean qkvBias, SplittableRandom rng) {
        if (dim % heads != 0) throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by heads " + heads);
        this.dim = dim;
        this.gridH = gridH;
        this.gridW = gridW;
        this.q = new Linear(name + ".q", dim, dim, qkvBias, rng);
        this.kv = new Linear(name + ".kv", dim, 2 * dim, qkvBias, rng);
        this.proj = new Linear(name + ".proj", dim, dim, true, rng);
        this.sr = srRatio > 1 ? new Conv2d(name + ".sr", dim, dim, srRatio, srRatio, 0, rng) : null;
        this.norm = srRatio > 1 ? new LayerNorm(name + ".norm", dim, 1e-5f) : null;
        this.sdpa = new ScaledDotProductAttention(name + ".softmax", heads, dim / heads);
    }

    public Linear q() {
        return q;
    }

    public Linear kv() {
        return kv;
    }

    public Linear proj() {
        return proj;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        int b = x.dim(0);
        int n = x.dim(1);
        Tensor qt = q.forward(x, training);
        Tensor xs = x;
        if (sr != null) {
            Tensor r = sr.forward(x.reshape(b, gridH, gridW, dim), training);
            xs = norm.forward(r.reshape(b, r.dim(1) * r.dim(2), dim), training);
        }
        int m = xs.dim(1);
        Tensor kvt = kv.forward(xs, training);
        float[] o = sdpa.forward(b, n, m, qt.data(), 0, dim, kvt.data(), 0, 2 * dim, kvt.data(), dim, 2 * dim,
                training);
        qOut = training ? qt : null;
        kvOut = training ? kvt : null;
        return proj.forward(Tensor.of(o, b, n, dim), training);
    }

    /**
     * x + attn(norm(x)) at inference: LayerNorm and q (and kv when there is no spatial reduction) one row
     * block per task, the reduction and kv as layers, the attention, then proj and the residual add one
     * row block per task; the same bits as the block's layer-by-layer path. Null where it does not apply.
     */
    @Override
    public Tensor forwardNormResidual(LayerNorm norm1, Tensor x) {
        if (x.rank() != 3 || x.dim(2) != dim || norm1.dim() != dim) return null;
        int b = x.dim(0);
        int n = x.dim(1);
        int rows = b * n;
        if (!Linear.rowBlocked(rows) || !q.forwardsRows() || !kv.forwardsRows() || !proj.forwardsRows()) return null;
        float[] xd = x.data();
        Tensor normed = Tensor.zeros(b, n, dim);
        float[] nd = normed.data();
        float[] qd = new float[Math.multiplyExact(rows, dim)];
        float[] kvd = sr == null ? new float[Math.multiplyExact(rows, 2 * dim)] : null;
        RowBlocks.run(rows, (r0, m) -> {
            norm1.forwardRows(xd, r0 * dim, nd, r0 * dim, m);
            q.forwardRows(rows, m, nd, r0 * dim, qd, r0 * dim);
            if (kvd != null) kv.forwardRows(rows, m, nd, r0 * dim, kvd, r0 * 2 * dim);
        });
        int mKeys = n;
        float[] kvAll = kvd;
        if (sr != null) {
            Tensor r = sr.forward(normed.reshape(b, gridH, gridW, dim), false);
            Tensor xs = norm.forward(r.reshape(b, r.dim(1) * r.dim(2), dim), false);
            mKeys = xs.dim(1);
            kvAll = kv.forward(xs, false).data();
        }
        float[] o = sdpa.forward(b, n, mKeys, qd, 0, dim, kvAll, 0, 2 * dim, kvAll, dim, 2 * dim, false);
        qOut = null;
        kvOut = null;
        return NormResidualAttention.projectAndAdd(proj, o, x);
    }

    @Override
    public Tensor backward(Tensor dy) {
        int b = qOut.dim(0);
        int n = qOut.dim(1);
        int m = kvOut.dim(1);
        Tensor dout = proj.backward(dy);
        Tensor dq = Tensor.zeros(qOut.shape());
        Tensor dkv = Tensor.zeros(kvOut.shape());
        float[] kvd = kvOut.data();
        sdpa.backward(b, n, m, dout.data(), qOut.data(), 0, dim, kvd, 0, 2 * dim, kvd, dim, 2 * dim,
                dq.data(), dkv.data(), dkv.data());
        qOut = null;
        kvOut = null;
        Tensor dxs = kv.backward(dkv);
        if (sr != null) {
            Tensor dr = norm.backward(dxs);
            int hs = sr.outSize(gridH);
            int ws = sr.outSize(gridW);
            dxs = sr.backward(dr.reshape(b, hs, ws, dim)).reshape(b, n, dim);
        }
        Tensor dx = q.backward(dq);
        Ops.addInPlace(dx.data(), dxs.data(), dx.size());
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(q.parameters());
        p.addAll(kv.parameters());
        if (sr != null) {
            p.addAll(sr.parameters());
            p.addAll(norm.parameters());
        }
        p.addAll(proj.parameters());
        return p;
    }
}
