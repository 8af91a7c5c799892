package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.FlashAttention;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.kernel.Softmax;
import dev.shiftaddvit.kernel.ThreadScratch;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;

/**
 * Multi-head softmax(Q·Kᵀ·scale)·V over strided head slices, one pool task per (batch, head, query
 * row block).
 * Q is [B, N, ldq] and K, V are [B, M, ldk] / [B, M, ldv] with head h at column offset h·d;
 * the output is [B, N, H·d]. Keeps the attention probabilities for backward.
 */
final class ScaledDotProductAttention {
    private final String name;
    private final int heads;
    private final int headDim;
    private final float scale;
    private float[] probs;

    ScaledDotProductAttention(String name, int heads, int headDim) {
        this.name = name;
        this.heads = heads;
        this.headDim = headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    float[] forward(int b, int n, int m, float[] q, int qOff, int ldq, float[] k, int kOff, int ldk,
                    float[] v, int vOff, int ldv, boolean training) {
        long t0 = System.nanoTime();
        int c = heads * headDim;
        float[] out = new float[b * n * c];
        // Training keeps every probability for backward; inference needs only one row block per thread.
        float[] p = training ? new float[b * heads * n * m] : null;
        int rowBlock = rowBlock(b * heads, n);
        int blocks = (n + rowBlock - 1) / rowBlock;
        boolean tiled = !training && FlashAttention.AT_INFERENCE;
        Parallel.forRange(b * heads * blocks, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int bh = t / blocks;
                int r0 = (t % blocks) * rowBlock;
                int rows = Math.min(rowBlock, n - r0);
                int bi = bh / heads;
                int h = bh % heads;
                int qo = qOff + bi * n * ldq + h * headDim;
                int ko = kOff + bi * m * ldk + h * headDim;
                int vo = vOff + bi * m * ldv + h * headDim;
                int oo = bi * n * c + h * headDim;
                if (tiled) {
                    FlashAttention.rows(r0, r0 + rows, m, headDim, scale, q, qo, ldq, k, ko, ldk, v, vo, ldv,
                            out, oo, c);
                    continue;
                }
                float[] s = training ? p : SCRATCH.get(rowBlock * m);
                int sOff = training ? (bh * n + r0) * m : 0;
                // the head's n rows pick the GEMM path, so a row's scores do not depend on the blocks
                Gemm.ntBlock(n, rows, m, headDim, q, qo + r0 * ldq, ldq, k, ko, ldk, s, sOff, m, false);
                Softmax.forwardRowsScaled(s, sOff, rows, m, scale);
                Gemm.nn(rows, headDim, m, s, sOff, m, v, vo, ldv, out, oo + r0 * c, c, false);
            }
        });
        probs = p;
        if (Profiler.active()) {
            Profiler.record(name, "Attention", "[" + b + ", " + heads + ", " + n + ", " + m + "]",
                    2L * b * heads * n * m * headDim, OpCount.softmaxAttention((long) b * heads, n, m, headDim), t0);
        }
        return out;
    }

    /**
     * Query rows per task: whole heads when the (batch, head) pairs already divide evenly over the
     * threads, otherwise each head cut into the fewest row blocks that do (batch 1 of DeiT-Tiny has 3
     * heads for 2 threads: 2 blocks each). Every extra block re-packs the head's K and V.
     */
    private static int rowBlock(int pairs, int n) {
        int threads = Parallel.threads();
        int blocks = 1;
        while ((pairs * blocks < threads || pairs * blocks % threads != 0) && blocks < threads) blocks++;
        return Math.max(Math.min(n, 16), (n + blocks - 1) / blocks);
    }

    /** Per-thread score rows for inference on the materialised path. */
    private static final ThreadScratch SCRATCH = new ThreadScratch();

    /** Writes dQ, dK, dV into the given arrays at the same strided positions as the inputs (overwriting). */
    void backward(int b, int n, int m, float[] dout, float[] q, int qOff, int ldq, float[] k, int kOff, int ldk,
                  float[] v, int vOff, int ldv, float[] dq, float[] dk, float[] dv) {
        long t0 = System.nanoTime();
        int c = heads * headDim;
        float[] p = probs;
        Parallel.forRange(b * heads, 1, (from, to) -> {
            float[] dp = new float[n * m];
            for (int t = from; t < to; t++) {
                int bi = t / heads;
                int h = t % heads;
                int pOff = t * n * m;
                int oOff = bi * n * c + h * headDim;
                int qo = qOff + bi * n * ldq + h * headDim;
                int ko = kOff + bi * m * ldk + h * headDim;
                int vo = vOff + bi * m * ldv + h * headDim;
                Gemm.nt(n, m, headDim, dout, oOff, c, v, vo, ldv, dp, 0, m, false);
                Gemm.tn(m, headDim, n, p, pOff, m, dout, oOff, c, dv, vo, ldv, false);
                Softmax.backwardRows(p, pOff, dp, 0, dp, 0, n, m);
                for (int i = 0; i < n * m; i++) dp[i] *= scale;
                Gemm.nn(n, headDim, m, dp, 0, m, k, ko, ldk, dq, qo, ldq, false);
                Gemm.tn(m, headDim, n, dp, 0, m, q, qo, ldq, dk, ko, ldk, false);
            }
        });
        probs = null;
        if (Profiler.active()) {
            Profiler.record(name, "Attention/bwd", "[" + b + ", " + heads + ", " + n + ", " + m + "]",
                    4L * b * heads * n * m * headDim, t0);
        }
    }
}
