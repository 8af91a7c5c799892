package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.kernel.Softmax;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
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
 * <p><b>Training</b>: {@link KshTraining#train}, which reaches the distances, σ and the input
 * checks of this class through its package-private helpers. The sign codes of
 * {@code LinAngularAttention_binary} are {@link SignCodes}.
 */
public final class KshHash {
    public static final int DEFAULT_BITS = 16;
    public static final int DEFAULT_ANCHORS = 25;

    private static final VectorSpecies<Float> FV = VectorWidth.FLOAT;
    private static final int VL = FV.length();

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

    /** The attention layer's name (prefix of the state names, and of messages). */
    String name() {
        return name;
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

    /**
     * Marks the state as trained (or not, so that {@code Reparam.trainHashes} trains it again, as the reference's
     * stage 2/3 re-train; until then a forward of its layer is refused).
     */
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
    public CodeEncoding encode(float[] x, int xOff, int ldx, int batch, int n, boolean keep) {
        checkLayout(x, xOff, ldx, batch, n);
        int g = batch * heads;
        int m = anchors;
        int rows = g * n;
        float[] ap = transposedProjection();
        float[] mud = mu.data();
        int grain = rowGrain();
        // phase 1: squared distances to the anchors
        float[] dist = squaredDistances(x, xOff, ldx, batch, n);
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
        return new CodeEncoding(codes, mask, keep ? dist : null, kern, zs, sigma);
    }

    /**
     * Backward of {@link #encode} (kept): dCodes [groups, N, r] is the loss gradient w.r.t. the float
     * codes; the STE gradient is carried through A (constant), the Gaussian kernel and σ to the
     * normalised rows and <b>accumulated</b> into dx (same layout as x).
     */
    public void backward(CodeEncoding enc, float[] dCodes, float[] x, int xOff, int ldx, float[] dx) {
        float[] kern = enc.kernel();
        if (kern == null) throw new IllegalStateException(name + ": KSH encoding was not kept for backward");
        float[] dist = enc.distances();
        long[] mask = enc.steMask();
        double[] sigma = enc.sigma();
        BitCodes codes = enc.codes();
        int g = codes.groups();
        int n = codes.tokens();
        int m = anchors;
        int rows = g * n;
        float[] ap = a.data();
        float[] ad = anchor.data();
        float[] dE = new float[rows * m];
        double[] part = new double[rows];
        int grain = rowGrain();
        // phase 1: through the STE and A: dE = dk = dz·A; per-row parts of dσ
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int h = (row / n) % heads;
                long pass = mask[row];
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
                    s += (double) dE[row * m + j] * kern[row * m + j] * dist[row * m + j];
                }
                part[row] = s;
            }
        });
        double[] dSigmaTerm = new double[g];   // dσ/(N·m)
        for (int gi = 0; gi < g; gi++) {
            double sg = sigma[gi];
            if (!(sg > 0)) continue;
            double s = 0;
            for (int k = 0; k < n; k++) s += part[gi * n + k];
            dSigmaTerm[gi] = s / (2.0 * sg * sg) / ((double) n * m);
        }
        // phase 2: dD = −dE·E/(2σ) + dσ/(N·m); dx += Σ_j dD·2(x − a_j)
        Parallel.forRange(rows, grain, (r0, r1) -> {
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                double sg = sigma[gi];
                if (!(sg > 0)) continue;
                int k = row % n;
                int h = gi % heads;
                int xo = xOff + ((gi / heads) * n + k) * ldx + h * headDim;
                for (int j = 0; j < m; j++) {
                    double dD = -dE[row * m + j] * kern[row * m + j] / (2.0 * sg) + dSigmaTerm[gi];
                    float f = (float) (2.0 * dD);
                    int ao = (h * m + j) * headDim;
                    for (int c = 0; c < headDim; c++) dx[xo + c] += f * (x[xo + c] - ad[ao + c]);
                }
            }
        });
    }

    /**
     * ‖x − a_j‖² for every row of the normalised input (layout as {@link #encode}) and anchor:
     * [groups·N, m], row g·N + k for token k of image g / H, head g % H. Shared with
     * {@link KshTraining}, which needs the same distances for the kernel it fits.
     */
    float[] squaredDistances(float[] x, int xOff, int ldx, int batch, int n) {
        int m = anchors;
        int rows = batch * heads * n;
        float[] dist = new float[rows * m];
        float[] at = transposedAnchors();
        Parallel.forRange(rows, rowGrain(), (r0, r1) -> {
            float[] scratch = new float[padded(m)];
            for (int row = r0; row < r1; row++) {
                int gi = row / n;
                int h = gi % heads;
                distances(x, xOff + ((gi / heads) * n + row % n) * ldx + h * headDim, at, h, dist, row * m, scratch);
            }
        });
        return dist;
    }

    /** Rows per parallel task: about 4096 multiply-adds of distance work each. */
    private int rowGrain() {
        return Math.max(1, 4096 / (anchors * headDim + 1));
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
    static double[] sigmas(float[] dist, int g, int n, int m) {
        double[] sigma = new double[g];
        // each group's sum runs in order on one thread, so the split over groups changes no bits
        Parallel.forRange(g, Math.max(1, 65536 / Math.max(1, n * m)), (g0, g1) -> {
            for (int gi = g0; gi < g1; gi++) {
                double s = 0;
                int base = gi * n * m;
                for (int i = 0; i < n * m; i++) s += dist[base + i];
                sigma[gi] = n == 0 ? 0 : s / ((double) n * m);
            }
        });
        return sigma;
    }

    /** Refuses negative counts, a row stride below heads·d and an input too short for batch·n rows. */
    void checkLayout(float[] x, int xOff, int ldx, int batch, int n) {
        if (batch < 0 || n < 0) throw new IllegalArgumentException(name + ": negative batch or token count");
        if (ldx < heads * headDim) {
            throw new ShapeException(name + ": row stride " + ldx + " is smaller than heads·d = " + heads * headDim);
        }
        long need = xOff + (long) batch * n * ldx;
        if (batch * n > 0 && need > x.length) {
            throw new ShapeException(name + ": input holds " + x.length + " floats, needs " + need);
        }
    }

}
