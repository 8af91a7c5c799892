package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * One head of softmax(scale·Q·Kᵀ)·V for inference as a tiled online softmax: each tile of
 * {@link Gemm#MR} query rows walks the keys in blocks of {@link #KEY_BLOCK}, keeping a running
 * maximum and sum per row and rescaling its output accumulator when the maximum grows, so the
 * scores never exist beyond one tile × block (8 KB) — at 3,136 tokens a head's score matrix is
 * 39 MB, far past every cache, and the materialised path streams it three times.
 *
 * <p>Both products run on {@link Gemm}'s register tile: scores from K packed as the nt form's B
 * (k = head dim), output from V packed as the nn form's B (k = keys of the block). A row's result
 * depends only on its own query row, so it has the same bits however the caller cuts the rows.
 * Training keeps the materialised path, whose probabilities the backward needs.
 */
public final class FlashAttention {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int VL = F.length();
    private static final int MR = Gemm.MR;
    private static final int NR = Gemm.NR;
    /**
     * Whether inference runs softmax attention through this kernel (default) or materialises the
     * scores ({@code -Dshiftaddvit.attention.tiled=false}, for measurements); training always does.
     */
    public static final boolean AT_INFERENCE =
            Boolean.parseBoolean(System.getProperty("shiftaddvit.attention.tiled", "true"));
    /** Keys per block: a multiple of NR; the block's scores (MR × KEY_BLOCK) and K, V slivers stay in L1/L2. */
    static final int KEY_BLOCK = Gemm.roundUp(Integer.getInteger("shiftaddvit.attention.keyblock", 256), NR);

    private FlashAttention() {
    }

    /**
     * out[i, c] = Σ_j softmax_j(scale·q_i·k_j) v_j[c] for query rows i in [r0, r1) of one head, c in
     * [0, d): row i of Q at q[qOff + i·ldq], key j at k[kOff + j·ldk], value j at v[vOff + j·ldv],
     * output row i at out[oOff + i·ldo]. Runs on the calling thread (callers split heads and rows).
     */
    public static void rows(int r0, int r1, int m, int d, float scale, float[] q, int qOff, int ldq,
                            float[] k, int kOff, int ldk, float[] v, int vOff, int ldv,
                            float[] out, int oOff, int ldo) {
        if (r1 <= r0) return;
        if (m < 1 || d < 1 || scale <= 0f) throw new IllegalArgumentException("m=" + m + " d=" + d + " scale=" + scale);
        int kSlivers = (m + NR - 1) / NR;
        int dPad = Gemm.roundUp(d, NR);
        Work w = WORK.get().size(kSlivers * NR * d, m * dPad, dPad);
        // K as nt-form slivers over all keys (k = d), V as nn-form slivers of NR output columns.
        Gemm.packBT(k, kOff, ldk, 0, d, 0, m, w.kp, 0);
        Gemm.packBN(v, vOff, ldv, 0, m, 0, d, w.vp, 0);
        float[] s = w.scores;
        float[] o = w.acc;
        for (int i = r0; i < r1; i += MR) {
            int rows = Math.min(MR, r1 - i);
            java.util.Arrays.fill(w.max, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(w.sum, 0f);
            java.util.Arrays.fill(o, 0f);
            for (int j0 = 0; j0 < m; j0 += KEY_BLOCK) {
                int kb = Math.min(KEY_BLOCK, m - j0);
                for (int t = 0; t * NR < kb; t++) {
                    Gemm.direct(d, q, qOff + i * ldq, ldq, rows, w.kp, (j0 / NR + t) * d * NR, s, t * NR,
                            KEY_BLOCK, false);
                }
                for (int r = 0; r < MR; r++) rescaleRow(w, r, kb, scale, o, dPad);
                for (int t = 0; t * NR < d; t++) {
                    Gemm.direct(kb, s, 0, KEY_BLOCK, MR, w.vp, t * m * NR + j0 * NR, o, t * NR, dPad, true);
                }
            }
            for (int r = 0; r < rows; r++) {
                float inv = 1f / w.sum[r];
                int dst = oOff + (i + r) * ldo;
                int src = r * dPad;
                int c = 0;
                FloatVector iv = FloatVector.broadcast(F, inv);
                for (; c <= d - VL; c += VL) FloatVector.fromArray(F, o, src + c).mul(iv).intoArray(out, dst + c);
                for (; c < d; c++) out[dst + c] = o[src + c] * inv;
            }
        }
    }

    /**
     * Turns row r's scores of one block (kb of them) into e^(scale·s − max) under the row's new
     * running maximum, adds them to its running sum and rescales its output accumulator by
     * e^(old max − new max).
     */
    private static void rescaleRow(Work w, int r, int kb, float scale, float[] o, int dPad) {
        float[] s = w.scores;
        int off = r * KEY_BLOCK;
        float blockMax = scale * Softmax.rowMax(s, off, kb);
        float old = w.max[r];
        float max = Math.max(old, blockMax);
        float corr = (float) Math.exp(old - max);
        w.max[r] = max;
        FloatVector sv = FloatVector.broadcast(F, scale);
        FloatVector shift = FloatVector.broadcast(F, -max);
        FloatVector acc = FloatVector.zero(F);
        int c = 0;
        for (; c <= kb - VL; c += VL) {
            FloatVector e = Softmax.expNonPositive(FloatVector.fromArray(F, s, off + c).fma(sv, shift));
            e.intoArray(s, off + c);
            acc = acc.add(e);
        }
        if (c < kb) {
            VectorMask<Float> tail = F.indexInRange(c, kb);
            FloatVector e = Softmax.expNonPositive(FloatVector.fromArray(F, s, off + c, tail).fma(sv, shift));
            e.intoArray(s, off + c, tail);
            acc = acc.add(e, tail);
        }
        w.sum[r] = w.sum[r] * corr + LaneSum.sum(acc);
        if (corr != 1f) {
            FloatVector cv = FloatVector.broadcast(F, corr);
            for (int x = r * dPad; x < (r + 1) * dPad; x += VL) {
                FloatVector.fromArray(F, o, x).mul(cv).intoArray(o, x);
            }
        }
    }

    /** Per-thread packed K and V of the current head, one tile's scores and output accumulator. */
    private static final class Work {
        float[] kp = new float[0];
        float[] vp = new float[0];
        float[] acc = new float[0];
        final float[] scores = new float[MR * KEY_BLOCK];
        final float[] max = new float[MR];
        final float[] sum = new float[MR];

        Work size(int kFloats, int vFloats, int dPad) {
            if (kp.length < kFloats) kp = new float[kFloats];
            if (vp.length < vFloats) vp = new float[vFloats];
            if (acc.length != MR * dPad) acc = new float[MR * dPad];
            return this;
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);
}
