package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Parallel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One-shot greedy training of a {@link KshHash} (the released {@code train_hashing_weight_woeig},
 * EcoFormer §1.3): top-k supervision S0 from the Gram matrix of the batch, anchors = m random
 * tokens of image 0, μ from the batch, then bit by bit 100 Nesterov-SGD steps (lr 5e-4, momentum
 * 0.9) on the relaxed loss −mean_{b,h}[φ(Ka)ᵀ S φ(Ka)]/(N·r), φ(u) = 2/(1+e^{−u}) − 1, keeping the
 * initial or the optimised row of A by the hard-code loss, then S ← S − y yᵀ. The residual
 * S = r·S0 − Σ y_u y_uᵀ is never formed (N² per image and head): S0 is kept sparse (≤ 2k entries
 * per row) and the rank-one terms as the list of kept code vectors. The distances, σ and the
 * input checks are the hash's own (the same arithmetic as {@link KshHash#encode}).
 */
public final class KshTraining {
    // The logger keeps the name it had while training lived in KshHash, so log filters still match.
    private static final Logger LOG = LoggerFactory.getLogger(KshTraining.class);
    /** Rows of the Gram matrix computed per block during supervision. */
    private static final int GRAM_ROWS = 64;

    private KshTraining() {
    }

    /** Hash-training hyperparameters (defaults: the released configs). */
    public record TrainConfig(int topK, int steps, double learningRate, double momentum) {
        public static final TrainConfig DEFAULT = new TrainConfig(10, 100, 5e-4, 0.9);

        public TrainConfig {
            if (topK < 1) throw new IllegalArgumentException("KSH topK must be >= 1, got " + topK);
            if (steps < 0) throw new IllegalArgumentException("KSH steps must be >= 0, got " + steps);
            if (!(learningRate > 0) || !(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("KSH needs lr > 0 and momentum in [0, 1); got " + learningRate
                        + ", " + momentum);
            }
        }
    }

    /** Per bit: hard-code loss (summed over heads = the mean over images and heads) of the initial and optimised a. */
    public record TrainReport(double[] initialLoss, double[] optimisedLoss, boolean[] keptOptimised) {
    }

    /**
     * Fits anchors, μ and A on one batch of normalised rows (layout as {@link KshHash#encode}) and marks
     * the hash trained. A starts from its current value (N(0,1) when fresh). Deterministic for a
     * given rng state and input (the per-head work runs in parallel but each head's arithmetic is
     * serial). Anchors: the first m tokens of a random permutation of image 0's tokens, the same
     * tokens for every head; when N &lt; m the following images supply the rest (the reference
     * would fail). top-k is capped at N; where the k largest and k smallest overlap (N &lt; 2k)
     * the −1 wins, as in the reference's scatter order.
     */
    public static TrainReport train(KshHash hash, float[] x, int xOff, int ldx, int batch, int n, TrainConfig cfg,
                                    SplittableRandom rng) {
        hash.checkLayout(x, xOff, ldx, batch, n);
        String name = hash.name();
        int heads = hash.heads();
        int headDim = hash.headDim();
        int bits = hash.bits();
        int m = hash.anchors();
        if ((long) batch * n < m) {
            throw new IllegalArgumentException(name + ": KSH needs at least " + m + " tokens to pick anchors, got "
                    + batch + "×" + n);
        }
        long t0 = System.nanoTime();
        int g = batch * heads;
        int k = Math.min(cfg.topK(), n);
        // anchors
        float[] ad = hash.anchorPoints().data();
        int picked = 0;
        for (int b = 0; picked < m; b++) {
            int[] perm = permutation(n, rng);
            for (int i = 0; i < n && picked < m; i++, picked++) {
                for (int h = 0; h < heads; h++) {
                    System.arraycopy(x, xOff + (b * n + perm[i]) * ldx + h * headDim, ad, (h * m + picked) * headDim,
                            headDim);
                }
            }
        }
        // supervision
        Supervision sup = supervision(hash, x, xOff, ldx, batch, n, k);
        // kernel matrix, μ, centred kernel
        float[] dist = hash.squaredDistances(x, xOff, ldx, batch, n);
        double[] sigma = KshHash.sigmas(dist, g, n, m);
        float[] kk = new float[g * n * m];
        for (int row = 0; row < g * n; row++) {
            double s2 = 2.0 * sigma[row / n];
            for (int j = 0; j < m; j++) kk[row * m + j] = s2 > 0 ? (float) Math.exp(-dist[row * m + j] / s2) : 1f;
        }
        float[] mud = hash.kernelMean().data();
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int b = 0; b < batch; b++) {
                    int base = (b * heads + h) * n;
                    for (int i = 0; i < n; i++) s += kk[(base + i) * m + j];
                }
                mud[h * m + j] = (float) (s / ((double) batch * n));
            }
        }
        for (int row = 0; row < g * n; row++) {
            int h = (row / n) % heads;
            for (int j = 0; j < m; j++) kk[row * m + j] -= mud[h * m + j];
        }
        Fit fit = new Fit(kk, sup, batch, heads, n, m, bits);
        // greedy, bit by bit
        float[] ap = hash.projection().data();
        double[] initial = new double[bits];
        double[] optimised = new double[bits];
        boolean[] kept = new boolean[bits];
        for (int t = 0; t < bits; t++) {
            int bit = t;
            double[][] a0 = new double[heads][m];
            double[][] a1 = new double[heads][];
            double[] l0 = new double[heads];
            double[] l1 = new double[heads];
            for (int h = 0; h < heads; h++) for (int j = 0; j < m; j++) a0[h][j] = ap[(h * bits + bit) * m + j];
            Parallel.forRange(heads, 1, (h0, h1) -> {
                for (int h = h0; h < h1; h++) {
                    a1[h] = fit.optimise(h, a0[h], cfg);
                    for (int j = 0; j < m; j++) a1[h][j] = (float) a1[h][j];   // A is stored in fp32
                    l0[h] = fit.hardLoss(h, a0[h]);
                    l1[h] = fit.hardLoss(h, a1[h]);
                }
            });
            double s0 = 0;
            double s1 = 0;
            for (int h = 0; h < heads; h++) {
                s0 += l0[h];
                s1 += l1[h];
            }
            boolean useOpt = s1 < s0;   // one decision for all heads, as the reference (scalar loss)
            initial[t] = s0;
            optimised[t] = s1;
            kept[t] = useOpt;
            double[][] chosen = useOpt ? a1 : a0;
            for (int h = 0; h < heads; h++) for (int j = 0; j < m; j++) ap[(h * bits + bit) * m + j] = (float) chosen[h][j];
            fit.commit(chosen);
        }
        hash.setTrained(true);
        LOG.info("{}: trained KSH hash ({} heads, {} bits, {} anchors) on {}×{} tokens in {} ms", name, heads, bits, m,
                batch, n, (System.nanoTime() - t0) / 1_000_000);
        return new TrainReport(initial, optimised, kept);
    }

    private static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    /**
     * Sparse top-k supervision S0 per group: row i of group g has {@code count[g·N+i]} entries at
     * {@code cols/vals[(g·N+i)·2k ...]} (+1 for the k most similar tokens, −1 for the k least).
     */
    record Supervision(int n, int k, int[] cols, float[] vals, int[] count) {
    }

    static Supervision supervision(KshHash hash, float[] x, int xOff, int ldx, int batch, int n, int k) {
        int heads = hash.heads();
        int headDim = hash.headDim();
        int g = batch * heads;
        int cap = 2 * k;
        int[] cols = new int[g * n * cap];
        float[] vals = new float[g * n * cap];
        int[] count = new int[g * n];
        int blocks = (n + GRAM_ROWS - 1) / GRAM_ROWS;
        Parallel.forRange(g * blocks, 1, (i0, i1) -> {
            float[] gram = new float[GRAM_ROWS * n];
            int[] hiIdx = new int[k];
            float[] hiVal = new float[k];
            int[] loIdx = new int[k];
            float[] loVal = new float[k];
            for (int item = i0; item < i1; item++) {
                int gi = item / blocks;
                int r0 = (item % blocks) * GRAM_ROWS;
                int rb = Math.min(GRAM_ROWS, n - r0);
                int base = xOff + (gi / heads) * n * ldx + (gi % heads) * headDim;
                Gemm.nt(rb, n, headDim, x, base + r0 * ldx, ldx, x, base, ldx, gram, 0, n, false);
                for (int i = 0; i < rb; i++) {
                    topK(gram, i * n, n, k, hiIdx, hiVal, loIdx, loVal);
                    int row = gi * n + r0 + i;
                    int o = row * cap;
                    int c = 0;
                    for (int q = 0; q < k; q++) {
                        boolean alsoLow = false;
                        for (int p = 0; p < k; p++) alsoLow |= loIdx[p] == hiIdx[q];
                        if (!alsoLow) {
                            cols[o + c] = hiIdx[q];
                            vals[o + c++] = 1f;
                        }
                    }
                    for (int q = 0; q < k; q++) {
                        cols[o + c] = loIdx[q];
                        vals[o + c++] = -1f;
                    }
                    count[row] = c;
                }
            }
        });
        return new Supervision(n, k, cols, vals, count);
    }

    /** Indices of the k largest and k smallest of g[off .. off+n) (ties: lower index first). */
    private static void topK(float[] g, int off, int n, int k, int[] hiIdx, float[] hiVal, int[] loIdx, float[] loVal) {
        int hc = 0;
        int lc = 0;
        for (int j = 0; j < n; j++) {
            float v = g[off + j];
            if (hc < k || v > hiVal[hc - 1]) {
                int p = hc < k ? hc++ : k - 1;
                while (p > 0 && hiVal[p - 1] < v) {
                    hiVal[p] = hiVal[p - 1];
                    hiIdx[p] = hiIdx[p - 1];
                    p--;
                }
                hiVal[p] = v;
                hiIdx[p] = j;
            }
            if (lc < k || v < loVal[lc - 1]) {
                int p = lc < k ? lc++ : k - 1;
                while (p > 0 && loVal[p - 1] > v) {
                    loVal[p] = loVal[p - 1];
                    loIdx[p] = loIdx[p - 1];
                    p--;
                }
                loVal[p] = v;
                loIdx[p] = j;
            }
        }
    }

    /**
     * The relaxed and hard KSH objectives of the greedy fit for one bit, with residual
     * S = r·S0 − Σ_{u&lt;t} y_u y_uᵀ per (image, head). Loss per head h (summing over heads gives
     * the reference's mean over images and heads): −Σ_b yᵀ S y / (B·H·N·r).
     */
    static final class Fit {
        private final float[] kk;
        private final Supervision sup;
        private final int batch;
        private final int heads;
        private final int n;
        private final int m;
        private final int bits;
        private final List<float[]> kept = new ArrayList<>();

        Fit(float[] kk, Supervision sup, int batch, int heads, int n, int m, int bits) {
            this.kk = kk;
            this.sup = sup;
            this.batch = batch;
            this.heads = heads;
            this.n = n;
            this.m = m;
            this.bits = bits;
        }

        private double scale() {
            return 1.0 / ((double) batch * heads * n * bits);
        }

        /** y = K a for group g (pre-activation). */
        private void project(int g, double[] a, double[] u) {
            for (int i = 0; i < n; i++) {
                int o = (g * n + i) * m;
                double s = 0;
                for (int j = 0; j < m; j++) s += kk[o + j] * a[j];
                u[i] = s;
            }
        }

        /** (S + Sᵀ)·y into out, and returns yᵀ S y, for group g. */
        private double residual(int g, double[] y, double[] out) {
            Arrays.fill(out, 0);
            double quad = 0;
            int cap = 2 * sup.k();
            for (int i = 0; i < n; i++) {
                int row = g * n + i;
                int o = row * cap;
                double si = 0;
                for (int e = 0; e < sup.count()[row]; e++) {
                    int j = sup.cols()[o + e];
                    double v = sup.vals()[o + e] * bits;
                    si += v * y[j];
                    out[j] += v * y[i];
                }
                out[i] += si;
                quad += y[i] * si;
            }
            for (float[] yu : kept) {
                double p = 0;
                for (int i = 0; i < n; i++) p += yu[g * n + i] * y[i];
                quad -= p * p;
                for (int i = 0; i < n; i++) out[i] -= 2 * p * yu[g * n + i];
            }
            return quad;
        }

        static double phi(double u) {
            return 2.0 / (1.0 + Math.exp(-u)) - 1.0;
        }

        /**
         * Relaxed loss of head h at a; grad (length m) receives its gradient when non-null. The
         * images run in parallel (when the caller is not already a pool task) and their parts are
         * summed in image order, so the result does not depend on the thread count.
         */
        double relaxedLoss(int h, double[] a, double[] grad) {
            double[] lossPart = new double[batch];
            double[][] gradPart = grad == null ? null : new double[batch][m];
            Parallel.forRange(batch, Math.max(1, 16384 / Math.max(1, n * (2 * m + 2 * sup.k() + kept.size()))),
                    (b0, b1) -> {
                        double[] u = new double[n];
                        double[] y = new double[n];
                        double[] sy = new double[n];
                        for (int b = b0; b < b1; b++) {
                            int g = b * heads + h;
                            project(g, a, u);
                            for (int i = 0; i < n; i++) y[i] = phi(u[i]);
                            lossPart[b] = -residual(g, y, sy) * scale();
                            if (gradPart == null) continue;
                            double[] gp = gradPart[b];
                            for (int i = 0; i < n; i++) {
                                double du = -sy[i] * scale() * 0.5 * (1 - y[i] * y[i]);
                                int o = (g * n + i) * m;
                                for (int j = 0; j < m; j++) gp[j] += du * kk[o + j];
                            }
                        }
                    });
            double loss = 0;
            if (grad != null) Arrays.fill(grad, 0);
            for (int b = 0; b < batch; b++) {
                loss += lossPart[b];
                if (grad != null) for (int j = 0; j < m; j++) grad[j] += gradPart[b][j];
            }
            return loss;
        }

        /** Loss of head h with hard ±1 codes (u &gt; 0 → +1, else −1). */
        double hardLoss(int h, double[] a) {
            double[] u = new double[n];
            double[] sy = new double[n];
            double loss = 0;
            for (int b = 0; b < batch; b++) {
                int g = b * heads + h;
                project(g, a, u);
                for (int i = 0; i < n; i++) u[i] = u[i] > 0 ? 1 : -1;
                loss -= residual(g, u, sy) * scale();
            }
            return loss;
        }

        /** Nesterov SGD (PyTorch semantics, no dampening or decay) from a0; returns the new a. */
        double[] optimise(int h, double[] a0, TrainConfig cfg) {
            double[] a = a0.clone();
            double[] grad = new double[m];
            double[] buf = null;
            double mom = cfg.momentum();
            double lr = cfg.learningRate();
            for (int s = 0; s < cfg.steps(); s++) {
                relaxedLoss(h, a, grad);
                if (buf == null) {
                    buf = grad.clone();
                } else {
                    for (int j = 0; j < m; j++) buf[j] = mom * buf[j] + grad[j];
                }
                for (int j = 0; j < m; j++) a[j] -= lr * (grad[j] + mom * buf[j]);
            }
            return a;
        }

        /** S ← S − y yᵀ with y the hard codes of the chosen a per head. */
        void commit(double[][] chosen) {
            float[] y = new float[batch * heads * n];
            double[] u = new double[n];
            for (int g = 0; g < batch * heads; g++) {
                project(g, chosen[g % heads], u);
                for (int i = 0; i < n; i++) y[g * n + i] = u[i] > 0 ? 1f : -1f;
            }
            kept.add(y);
        }
    }
}
