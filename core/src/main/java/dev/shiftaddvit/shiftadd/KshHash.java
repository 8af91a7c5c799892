package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.kernel.Softmax;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Kernelized supervised hashing (KSH) of one attention layer, per head (ShiftAddViT spec §2.3,
 * EcoFormer §1.2–1.3): maps row-L2-normalised query/key vectors x ∈ R^d to r-bit {0,1} codes.
 *
 * <p><b>State</b> (buffers, not trained by backprop; {@link #state()} names them
 * {@code <name>.hash.A} [H, r, m], {@code <name>.hash.mu} [H, m], {@code <name>.hash.anchors}
 * [H, m, d]): the projection A (initialised N(0,1)), the kernel mean μ and the anchors.
 *
 * <p><b>Inference map</b> per image b and head h (x_n the normalised rows; no epsilon anywhere):
 * D_nj = ‖x_n − a_j‖², σ = mean_{n,j} D_nj <i>recomputed from the current input</i>,
 * k_nj = exp(−D_nj/(2σ)) − μ_j, z_nt = Σ_j k_nj·A_tj, bit b_nt = 1[z_nt &gt; 0] (strict). The
 * straight-through estimator passes the code gradient where 0 &lt; z &lt; 1 (strict, as
 * {@code BinaryQuantizer}) and {@link #backward} carries it to x through A (a constant), the kernel
 * and σ (σ depends on x; it is not detached, as in the reference). Guard (a deviation where the
 * reference gives NaN): when σ = 0 (every token equals every anchor) the kernel is taken as 1 and
 * its gradient as 0.
 *
 * <p><b>Training</b> ({@link #train}, the released {@code train_hashing_weight_woeig}): top-k
 * supervision S0 from the Gram matrix of the batch, anchors = m random tokens of image 0, μ from
 * the batch, then bit by bit 100 Nesterov-SGD steps (lr 5e-4, momentum 0.9) on the relaxed loss
 * −mean_{b,h}[φ(Ka)ᵀ S φ(Ka)]/(N·r), φ(u) = 2/(1+e^{−u}) − 1, keeping the initial or the optimised
 * row of A by the hard-code loss, then S ← S − y yᵀ. The residual S = r·S0 − Σ y_u y_uᵀ is never
 * formed (N² per image and head): S0 is kept sparse (≤ 2k entries per row) and the rank-one terms
 * as the list of kept code vectors.
 *
 * <p>Also the plain <b>sign codes</b> of {@code LinAngularAttention_binary}: {@link #signEncode},
 * {@link #signBackward}.
 */
public final class KshHash {
    public static final int DEFAULT_BITS = 16;
    public static final int DEFAULT_ANCHORS = 25;

    private static final Logger LOG = LoggerFactory.getLogger(KshHash.class);
    private static final VectorSpecies<Float> FV = VectorWidth.FLOAT;
    private static final int VL = FV.length();
    /** Rows of the Gram matrix computed per block during supervision. */
    private static final int GRAM_ROWS = 64;

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
     * The codes of one forward pass and what the backward pass needs: codes for groups
     * g = b·heads + h; {@code mask} holds per (g, n) the STE pass bits; for KSH, the distances,
     * kernel values exp(−D/2σ), σ per group and the pre-activations z (null unless kept).
     */
    public static final class Encoding {
        private final BitCodes codes;
        private final long[] mask;
        private final float[] dist;
        private final float[] kern;
        private final float[] z;
        private final double[] sigma;

        Encoding(BitCodes codes, long[] mask, float[] dist, float[] kern, float[] z, double[] sigma) {
            this.codes = codes;
            this.mask = mask;
            this.dist = dist;
            this.kern = kern;
            this.z = z;
            this.sigma = sigma;
        }

        public BitCodes codes() {
            return codes;
        }

        /** STE pass bits per (group, token): bit t set iff the gradient of code bit t passes. */
        public long[] steMask() {
            return mask;
        }

        /** Pre-activations z [groups, N, r] (KSH, kept for backward), else null. */
        public float[] preActivations() {
            return z;
        }

        /** σ per group (KSH), else null. */
        public double[] sigma() {
            return sigma;
        }
    }

    private final String name;
    private final int heads;
    private final int headDim;
    private final int bits;
    private final int anchors;
    private final Tensor a;
    private final Tensor mu;
    private final Tensor anchor;
    private volatile boolean trained;

    /** Fresh, untrained state: A ~ N(0,1) from rng, μ and anchors zero. name is the attention layer's. */
    public KshHash(String name, int heads, int headDim, int bits, int anchors, SplittableRandom rng) {
        if (heads < 1 || headDim < 1) throw new IllegalArgumentException(name + ": heads and head dim must be >= 1");
        if (bits < 1 || bits > BitCodes.MAX_BITS) {
            throw new IllegalArgumentException(name + ": KSH bits must be in [1, 64], got " + bits);
        }
        if (anchors < 1) throw new IllegalArgumentException(name + ": KSH anchors must be >= 1, got " + anchors);
        this.name = name;
        this.heads = heads;
        this.headDim = headDim;
        this.bits = bits;
        this.anchors = anchors;
        this.a = Tensor.zeros(heads, bits, anchors);
        this.mu = Tensor.zeros(heads, anchors);
        this.anchor = Tensor.zeros(heads, anchors, headDim);
        float[] ad = a.data();
        for (int i = 0; i < ad.length; i++) ad[i] = (float) Init.gaussian(rng);
    }

    public int heads() {
        return heads;
    }

    public int headDim() {
        return headDim;
    }

    public int bits() {
        return bits;
    }

    public int anchors() {
        return anchors;
    }

    /** Projection A [H, r, m] (live; writing it changes the hash). */
    public Tensor projection() {
        return a;
    }

    /** Kernel mean μ [H, m] (live). */
    public Tensor kernelMean() {
        return mu;
    }

    /** Anchors [H, m, d] (live). */
    public Tensor anchorPoints() {
        return anchor;
    }

    public boolean isTrained() {
        return trained;
    }

    /** Marks the state as trained (or not, to force re-training on the next batch as the reference's stage 2/3). */
    public void setTrained(boolean value) {
        trained = value;
    }

    /** The state as named tensors (live views) for checkpoints, in the order A, mu, anchors. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(name + ".hash.A", a);
        m.put(name + ".hash.mu", mu);
        m.put(name + ".hash.anchors", anchor);
        return Collections.unmodifiableMap(m);
    }

    /** Copies the state from named tensors (as {@link #state()} names them) and marks the hash trained. */
    public void load(Map<String, Tensor> tensors) {
        for (Map.Entry<String, Tensor> e : state().entrySet()) {
            Tensor src = tensors.get(e.getKey());
            if (src == null) throw new IllegalArgumentException("missing KSH state tensor " + e.getKey());
            src.requireShape(e.getKey(), e.getValue().shape());
        }
        for (Map.Entry<String, Tensor> e : state().entrySet()) {
            float[] src = tensors.get(e.getKey()).data();
            System.arraycopy(src, 0, e.getValue().data(), 0, src.length);
        }
        trained = true;
    }

    // ---- inference map ---------------------------------------------------------------------------

    /**
     * Codes of the normalised rows x (head h of token n of image b at {@code xOff + (b·n + k)·ldx + h·d}).
     * With keep, the encoding holds what {@link #backward} needs.
     */
    public Encoding encode(float[] x, int xOff, int ldx, int batch, int n, boolean keep) {
        checkLayout(x, xOff, ldx, batch, n);
        int g = batch * heads;
        int m = anchors;
        int rows = g * n;
        float[] dist = new float[rows * m];
        float[] at = transposedAnchors();
        float[] ap = transposedProjection();
        float[] mud = mu.data();
        int grain = Math.max(1, 4096 / (m * headDim + 1));
        // phase 1: squared distances to the anchors
        Parallel.forRange(rows, grain, (r0, r1) -> {
            float[] scratch = new float[padded(m)];
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int h = gi % heads;
                distances(x, xOff + ((gi / heads) * n + row % n) * ldx + h * headDim, at, h, dist, row * m, scratch);
            }
        });
        double[] sigma = sigmas(dist, g, n, m);
        BitCodes codes = new BitCodes(g, n, bits);
        long[] words = codes.tokenWords();
        long[] mask = new long[rows];
        float[] kern = keep ? new float[rows * m] : null;
        float[] zs = keep ? new float[rows * bits] : null;
        // phase 2: kernel, projection, codes
        Parallel.forRange(rows, grain, (r0, r1) -> {
            float[] kv = new float[m];
            float[] zr = new float[padded(bits)];
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int h = gi % heads;
                double s2 = 2.0 * sigma[gi];
                if (s2 > 0) Softmax.expScaled(dist, row * m, (float) (-1.0 / s2), kv, 0, m);
                else Arrays.fill(kv, 1f);
                for (int j = 0; j < m; j++) {
                    float e = kv[j];
                    if (kern != null) kern[row * m + j] = e;
                    kv[j] = e - mud[h * m + j];
                }
                project(kv, ap, h, zr);
                long w = 0;
                long pass = 0;
                for (int t = 0; t < bits; t++) {
                    float z = zr[t];
                    if (z > 0f) w |= 1L << t;
                    if (z > 0f && z < 1f) pass |= 1L << t;
                    if (zs != null) zs[row * bits + t] = z;
                }
                words[row] = w;
                mask[row] = pass;
            }
        });
        return new Encoding(codes, mask, keep ? dist : null, kern, zs, sigma);
    }

    /**
     * Backward of {@link #encode} (kept): dCodes [groups, N, r] is the loss gradient w.r.t. the float
     * codes; the STE gradient is carried through A (constant), the Gaussian kernel and σ to the
     * normalised rows and <b>accumulated</b> into dx (same layout as x).
     */
    public void backward(Encoding enc, float[] dCodes, float[] x, int xOff, int ldx, float[] dx) {
        if (enc.kern == null) throw new IllegalStateException(name + ": KSH encoding was not kept for backward");
        BitCodes codes = enc.codes;
        int g = codes.groups();
        int n = codes.tokens();
        int m = anchors;
        int rows = g * n;
        float[] ap = a.data();
        float[] ad = anchor.data();
        float[] dE = new float[rows * m];
        double[] part = new double[rows];
        int grain = Math.max(1, 4096 / (m * headDim + 1));
        // phase 1: through the STE and A: dE = dk = dz·A; per-row parts of dσ
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int h = (row / n) % heads;
                long pass = enc.mask[row];
                double s = 0;
                for (int j = 0; j < m; j++) dE[row * m + j] = 0f;
                while (pass != 0) {
                    int t = Long.numberOfTrailingZeros(pass);
                    pass &= pass - 1;
                    float dz = dCodes[row * bits + t];
                    int ao = (h * bits + t) * m;
                    for (int j = 0; j < m; j++) dE[row * m + j] += dz * ap[ao + j];
                }
                for (int j = 0; j < m; j++) {
                    s += (double) dE[row * m + j] * enc.kern[row * m + j] * enc.dist[row * m + j];
                }
                part[row] = s;
            }
        });
        double[] dSigmaTerm = new double[g];   // dσ/(N·m)
        for (int gi = 0; gi < g; gi++) {
            double sg = enc.sigma[gi];
            if (!(sg > 0)) continue;
            double s = 0;
            for (int k = 0; k < n; k++) s += part[gi * n + k];
            dSigmaTerm[gi] = s / (2.0 * sg * sg) / ((double) n * m);
        }
        // phase 2: dD = −dE·E/(2σ) + dσ/(N·m); dx += Σ_j dD·2(x − a_j)
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                double sg = enc.sigma[gi];
                if (!(sg > 0)) continue;
                int k = row % n;
                int h = gi % heads;
                int xo = xOff + ((gi / heads) * n + k) * ldx + h * headDim;
                for (int j = 0; j < m; j++) {
                    double dD = -dE[row * m + j] * enc.kern[row * m + j] / (2.0 * sg) + dSigmaTerm[gi];
                    float f = (float) (2.0 * dD);
                    int ao = (h * m + j) * headDim;
                    for (int c = 0; c < headDim; c++) dx[xo + c] += f * (x[xo + c] - ad[ao + c]);
                }
            }
        });
    }

    /** Anchors padded to a whole number of vectors: [H, d, mPad] (channel-major), pad lanes zero. */
    private float[] transposedAnchors() {
        int m = anchors;
        int mp = padded(m);
        float[] ad = anchor.data();
        float[] at = new float[heads * headDim * mp];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < m; j++) {
                for (int c = 0; c < headDim; c++) at[(h * headDim + c) * mp + j] = ad[(h * m + j) * headDim + c];
            }
        }
        return at;
    }

    /** A as [H, m, rPad] (pad lanes zero), so the projection runs over bits. */
    private float[] transposedProjection() {
        int m = anchors;
        int rp = padded(bits);
        float[] ap = a.data();
        float[] t = new float[heads * m * rp];
        for (int h = 0; h < heads; h++) {
            for (int b = 0; b < bits; b++) {
                for (int j = 0; j < m; j++) t[(h * m + j) * rp + b] = ap[(h * bits + b) * m + j];
            }
        }
        return t;
    }

    private static int padded(int k) {
        return (k + VL - 1) / VL * VL;
    }

    /**
     * out[oOff + j] = ‖x − a_j‖² for the m anchors of head h (at = {@link #transposedAnchors()}):
     * vectorised over anchors, each a fused multiply-add chain over the channels in ascending order;
     * scratch holds mPad floats.
     */
    private void distances(float[] x, int xo, float[] at, int h, float[] out, int oOff, float[] scratch) {
        int mp = padded(anchors);
        int d = headDim;
        int jb = 0;
        for (; jb + 2 * VL <= mp; jb += 2 * VL) {
            FloatVector s0 = FloatVector.zero(FV);
            FloatVector s1 = FloatVector.zero(FV);
            for (int c = 0; c < d; c++) {
                FloatVector xc = FloatVector.broadcast(FV, x[xo + c]);
                int base = (h * d + c) * mp + jb;
                FloatVector d0 = xc.sub(FloatVector.fromArray(FV, at, base));
                FloatVector d1 = xc.sub(FloatVector.fromArray(FV, at, base + VL));
                s0 = d0.fma(d0, s0);
                s1 = d1.fma(d1, s1);
            }
            s0.intoArray(scratch, jb);
            s1.intoArray(scratch, jb + VL);
        }
        for (; jb < mp; jb += VL) {
            FloatVector s0 = FloatVector.zero(FV);
            for (int c = 0; c < d; c++) {
                FloatVector d0 = FloatVector.broadcast(FV, x[xo + c]).sub(FloatVector.fromArray(FV, at, (h * d + c) * mp + jb));
                s0 = d0.fma(d0, s0);
            }
            s0.intoArray(scratch, jb);
        }
        System.arraycopy(scratch, 0, out, oOff, anchors);
    }

    /** z[0..rPad) = Σ_j k_j·A_tj (j ascending, fused) for head h (ap = {@link #transposedProjection()}). */
    private void project(float[] kv, float[] ap, int h, float[] z) {
        int rp = padded(bits);
        for (int tb = 0; tb < rp; tb += VL) {
            FloatVector acc = FloatVector.zero(FV);
            for (int j = 0; j < anchors; j++) {
                acc = FloatVector.fromArray(FV, ap, (h * anchors + j) * rp + tb).fma(FloatVector.broadcast(FV, kv[j]), acc);
            }
            acc.intoArray(z, tb);
        }
    }

    /** σ per group: the mean of the squared distances over tokens and anchors. */
    private static double[] sigmas(float[] dist, int g, int n, int m) {
        double[] sigma = new double[g];
        for (int gi = 0; gi < g; gi++) {
            double s = 0;
            int base = gi * n * m;
            for (int i = 0; i < n * m; i++) s += dist[base + i];
            sigma[gi] = n == 0 ? 0 : s / ((double) n * m);
        }
        return sigma;
    }

    private void checkLayout(float[] x, int xOff, int ldx, int batch, int n) {
        if (batch < 0 || n < 0) throw new IllegalArgumentException(name + ": negative batch or token count");
        if (ldx < heads * headDim) {
            throw new ShapeException(name + ": row stride " + ldx + " is smaller than heads·d = " + heads * headDim);
        }
        long need = xOff + (long) batch * n * ldx;
        if (batch * n > 0 && need > x.length) {
            throw new ShapeException(name + ": input holds " + x.length + " floats, needs " + need);
        }
    }

    // ---- one-shot greedy training --------------------------------------------------------------

    /** {@link #train(float[], int, int, int, int, TrainConfig, SplittableRandom)} with the default config. */
    public TrainReport train(float[] x, int xOff, int ldx, int batch, int n, SplittableRandom rng) {
        return train(x, xOff, ldx, batch, n, TrainConfig.DEFAULT, rng);
    }

    /**
     * Fits anchors, μ and A on one batch of normalised rows (layout as {@link #encode}) and marks
     * the hash trained. A starts from its current value (N(0,1) when fresh). Deterministic for a
     * given rng state and input (the per-head work runs in parallel but each head's arithmetic is
     * serial). Anchors: the first m tokens of a random permutation of image 0's tokens, the same
     * tokens for every head; when N &lt; m the following images supply the rest (the reference
     * would fail). top-k is capped at N; where the k largest and k smallest overlap (N &lt; 2k)
     * the −1 wins, as in the reference's scatter order.
     */
    public TrainReport train(float[] x, int xOff, int ldx, int batch, int n, TrainConfig cfg, SplittableRandom rng) {
        checkLayout(x, xOff, ldx, batch, n);
        int m = anchors;
        if ((long) batch * n < m) {
            throw new IllegalArgumentException(name + ": KSH needs at least " + m + " tokens to pick anchors, got "
                    + batch + "×" + n);
        }
        long t0 = System.nanoTime();
        int g = batch * heads;
        int k = Math.min(cfg.topK(), n);
        // anchors
        float[] ad = anchor.data();
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
        Supervision sup = supervision(x, xOff, ldx, batch, n, k);
        // kernel matrix, μ, centred kernel
        float[] dist = new float[g * n * m];
        float[] at = transposedAnchors();
        Parallel.forRange(g * n, Math.max(1, 4096 / (m * headDim + 1)), (r0, r1) -> {
            float[] scratch = new float[padded(m)];
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int h = gi % heads;
                distances(x, xOff + ((gi / heads) * n + row % n) * ldx + h * headDim, at, h, dist, row * m, scratch);
            }
        });
        double[] sigma = sigmas(dist, g, n, m);
        float[] kk = new float[g * n * m];
        for (int row = 0; row < g * n; row++) {
            double s2 = 2.0 * sigma[row / n];
            for (int j = 0; j < m; j++) kk[row * m + j] = s2 > 0 ? (float) Math.exp(-dist[row * m + j] / s2) : 1f;
        }
        float[] mud = mu.data();
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
        float[] ap = a.data();
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
        trained = true;
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

    Supervision supervision(float[] x, int xOff, int ldx, int batch, int n, int k) {
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
            java.util.Arrays.fill(out, 0);
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
            if (grad != null) java.util.Arrays.fill(grad, 0);
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

    // ---- sign codes (LinAngularAttention_binary) -----------------------------------------------

    /**
     * Sign codes of the normalised rows x (layout as {@link #encode}, r = d ≤ 64): bit c of token n
     * = 1[x_c − mean(x) &gt; 0] where the mean runs over the whole tensor (all images, tokens,
     * heads and channels, as the reference; it is a constant for backward), with the STE of
     * clamp(x, 0, 1): the gradient passes where 0 ≤ x ≤ 1 (PyTorch's clamp gradient is inclusive).
     */
    public static Encoding signEncode(float[] x, int xOff, int ldx, int batch, int n, int heads, int d) {
        if (d < 1 || d > BitCodes.MAX_BITS) throw new IllegalArgumentException("sign codes need head dim in [1, 64], got " + d);
        double s = 0;
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < n; k++) {
                int o = xOff + (b * n + k) * ldx;
                for (int c = 0; c < heads * d; c++) s += x[o + c];
            }
        }
        long count = (long) batch * n * heads * d;
        float mean = count == 0 ? 0f : (float) (s / count);
        int g = batch * heads;
        BitCodes codes = new BitCodes(g, n, d);
        long[] words = codes.tokenWords();
        long[] mask = new long[g * n];
        Parallel.forRange(g * n, 256, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int o = xOff + ((gi / heads) * n + row % n) * ldx + (gi % heads) * d;
                long w = 0;
                long pass = 0;
                for (int c = 0; c < d; c++) {
                    float v = x[o + c];
                    if (v - mean > 0f) w |= 1L << c;
                    if (v >= 0f && v <= 1f) pass |= 1L << c;
                }
                words[row] = w;
                mask[row] = pass;
            }
        });
        return new Encoding(codes, mask, null, null, null, null);
    }

    /** Backward of {@link #signEncode}: dx (same layout as x) += dCodes [groups, N, d] where the STE passes. */
    public static void signBackward(Encoding enc, float[] dCodes, int xOff, int ldx, int heads, float[] dx) {
        BitCodes codes = enc.codes;
        int n = codes.tokens();
        int d = codes.bits();
        Parallel.forRange(codes.groups() * n, 256, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int o = xOff + ((gi / heads) * n + row % n) * ldx + (gi % heads) * d;
                long pass = enc.mask[row];
                while (pass != 0) {
                    int c = Long.numberOfTrailingZeros(pass);
                    pass &= pass - 1;
                    dx[o + c] += dCodes[row * d + c];
                }
            }
        });
    }
}
