package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.kernel.DwConvKernel;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.MatAdd;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.kernel.RowBlocks;
import dev.shiftaddvit.kernel.ThreadScratch;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.LayerNorm;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.NormResidualAttention;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.RowLinear;
import dev.shiftaddvit.nn.SelfAttention;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ShiftAddViT's linear-angular attention with binary codes ({@code LinAngularAttention_ksh}, spec
 * §2.2–2.4) on tokens [B, N, C]. Queries and keys share one projection {@code <name>.qk}; values
 * come from {@code <name>.v}; per head (d = C/H):
 * <pre>
 *   x = qk / ‖qk‖ (row-wise)          B = codes(x) ∈ {0,1}^{N×r}     (KSH, or sign codes)
 *   T = Bᵀ V   (MatAdd #1)            U = ½ V + (1/π) B T   (B T: MatAdd #2)
 *   Û = U / ‖U‖ (row-wise)            O = Û + DW(V)
 * </pre>
 * then the heads are concatenated and {@code <name>.proj} applied. DW is a depthwise 1-D conv with
 * {@code taps} (9) taps along the flattened token index, one filter per head shared by the d
 * channels of that head, zero padding, no bias ({@code <name>.dwconv.weight} [H, 1, taps, 1], as
 * the reference's Conv2d over (B, H, N, d) with kernel (9, 1), groups = H); it runs through
 * {@link DwConvKernel} on the [B, N, 1, C] view with the head's taps repeated over its d channels,
 * the weight gradient summed back per head.
 *
 * <p>Both products run through the add-only {@link MatAdd} kernels on packed codes, in training
 * and at inference, and so do their backward counterparts Bᵀ·dP and B·dT; only dB = dP·Tᵀ + V·dTᵀ
 * (needed for the straight-through estimator) is a float GEMM. Gradients reach V (½ path, both
 * products and the conv), the conv taps, proj, and qk through the STE, the KSH kernel (and σ) and
 * the row normalisation; the hash state (A, μ, anchors) is constant. A KSH hash is trained before
 * the layer's first forward, on a batch of its inputs: {@code Reparam.trainHashes} does it for a
 * whole model in one inference pass (as the reference trains inside its first forward), seeded from
 * the constructor's rng through {@link #trainHash(Tensor)}; or a checkpoint loads it. A forward that
 * meets an untrained hash is refused, so no forward trains by surprise.
 *
 * <p>Zero rows (documented deviation; the reference has no epsilon and gives NaN): a qk row of
 * norm 0 normalises to 0 and a U row of norm 0 to Û = 0, both with zero gradient.
 */
public final class AddAttention implements NormResidualAttention {
    /** How queries/keys become codes. */
    public enum CodeKind {
        /** Kernelized supervised hashing, r bits (the released ShiftAddViT configs). */
        KSH,
        /**
         * 1[x − mean(x) &gt; 0] with r = d ({@code LinAngularAttention_binary}, here with the shared
         * qk). As in the reference the mean runs over the whole batch tensor, so an image's codes
         * depend on the other images of its batch; no state to train or store.
         */
        SIGN
    }

    /** How the shared qk projection is initialised from a dense attention. */
    public enum QkInit {
        /** The dense query weights (EcoFormer's released conversion; the default). */
        QUERY,
        /** The average of the dense query and key weights. */
        MEAN
    }

    /** Layer options; DEFAULT is the released PVTv2 config (KSH, 16 bits, 25 anchors, 9 taps). */
    public record Options(CodeKind codes, int bits, int anchors, int taps, KshTraining.TrainConfig hashTraining) {
        /**
         * Bounds far above the published values (25 anchors, 9 taps) that keep a file's metadata
         * from sizing the hash state or the conv weight past what any file holds.
         */
        public static final int MAX_ANCHORS = 1024;
        public static final int MAX_TAPS = 99;
        public static final Options DEFAULT = new Options(CodeKind.KSH, KshHash.DEFAULT_BITS, KshHash.DEFAULT_ANCHORS, 9,
                KshTraining.TrainConfig.DEFAULT);

        public Options {
            if (codes == null || hashTraining == null) throw new IllegalArgumentException("AddAttention options: null field");
            if (bits < 1 || bits > BitCodes.MAX_BITS) throw new IllegalArgumentException("code bits must be in [1, 64], got " + bits);
            if (anchors < 1 || anchors > MAX_ANCHORS) {
                throw new IllegalArgumentException("KSH anchors must be in [1, " + MAX_ANCHORS + "], got " + anchors);
            }
            if (taps < 1 || taps > MAX_TAPS || taps % 2 == 0) {
                throw new IllegalArgumentException("conv taps must be odd and in [1, " + MAX_TAPS + "], got " + taps);
            }
        }

        public Options withCodes(CodeKind kind) {
            return new Options(kind, bits, anchors, taps, hashTraining);
        }
    }

    private static final float INV_PI = (float) (1.0 / Math.PI);

    private final String name;
    private final int dim;
    private final int heads;
    private final int headDim;
    private final int bits;
    private final Options options;
    // Dense Linears until replaceProjections turns them into MoE layers.
    private Layer qk;
    private Layer v;
    private Layer proj;
    private final Parameter dwWeight;
    private final KshHash hash;
    private final SplittableRandom hashRng;

    // forward cache
    private Tensor vOut;
    private float[] xn;
    private float[] qkNorm;
    private CodeEncoding enc;
    private float[] tm;
    private float[] uhat;
    private float[] uNorm;
    private float[] tapsExpanded;
    private CodeEncoding lastEncoding;
    // test hook: reuse the first codes and treat them as constants
    private boolean frozen;
    private CodeEncoding frozenEncoding;

    public AddAttention(String name, int dim, int heads, boolean qkvBias, Options options, SplittableRandom rng) {
        if (heads < 1 || dim % heads != 0) {
            throw new IllegalArgumentException(name + ": dim " + dim + " not divisible by heads " + heads);
        }
        this.name = name;
        this.dim = dim;
        this.heads = heads;
        this.headDim = dim / heads;
        this.options = options;
        if (options.codes() == CodeKind.SIGN && headDim > BitCodes.MAX_BITS) {
            throw new IllegalArgumentException(name + ": sign codes need head dim <= 64, got " + headDim);
        }
        this.bits = options.codes() == CodeKind.KSH ? options.bits() : headDim;
        this.qk = new Linear(name + ".qk", dim, dim, qkvBias, rng);
        this.v = new Linear(name + ".v", dim, dim, qkvBias, rng);
        this.proj = new Linear(name + ".proj", dim, dim, true, rng);
        this.dwWeight = new Parameter(name + ".dwconv.weight", Tensor.zeros(heads, 1, options.taps(), 1), true);
        Init.convFanOut(dwWeight.value().data(), options.taps(), rng);
        this.hash = options.codes() == CodeKind.KSH
                ? new KshHash(name, heads, headDim, options.bits(), options.anchors(), rng) : null;
        this.hashRng = rng.split();
    }

    // ---- conversion from dense attentions ------------------------------------------------------

    /**
     * From a trained ViT/DeiT attention: qk ← the query rows of {@code qkv} (QUERY, the default
     * choice) or the mean of the query and key rows (MEAN), weights and bias; v ← the value rows;
     * proj copied. The conv taps start random (N(0, √(2/taps)), as the reference) and the hash
     * untrained. The layer keeps the dense layer's name (from {@code <name>.proj.weight}).
     *
     * <p>Why QUERY: with one projection for both sides, the codes must reproduce the neighbour
     * structure the dense layer's queries see; EcoFormer's released conversion (which the spec
     * cites as the alternative to ShiftAddViT's random init) maps {@code to_qk ← qkv[0:C]} and
     * drops K. An average of W_q and W_k is not a well-defined point of the trained model: the
     * logits q·k are unchanged by W_q → c·W_q, W_k → W_k/c (or by any invertible per-head M and
     * M^{-T}), which moves the average arbitrarily while the normalised query directions (all
     * the hash sees) are unchanged by scaling. MEAN is offered for experiments.
     */
    public static AddAttention fromSelfAttention(SelfAttention dense, int heads, Options options, QkInit qkInit,
                                                 SplittableRandom rng) {
        Linear qkv = dense.qkv();
        int dim = dense.proj().in();
        AddAttention a = new AddAttention(layerName(dense.proj()), dim, heads, qkv.bias() != null, options, rng);
        float[] w = qkv.weight().value().data();
        float[] b = qkv.bias() == null ? null : qkv.bias().value().data();
        int cc = dim * dim;
        a.initQk(w, 0, w, cc, b, 0, b, dim, qkInit);
        System.arraycopy(w, 2 * cc, a.denseV().weight().value().data(), 0, cc);
        if (b != null) System.arraycopy(b, 2 * dim, a.denseV().bias().value().data(), 0, dim);
        a.copyProj(dense.proj());
        return a;
    }

    /** {@link #fromSelfAttention(SelfAttention, int, Options, QkInit, SplittableRandom)} with QUERY. */
    public static AddAttention fromSelfAttention(SelfAttention dense, int heads, Options options, SplittableRandom rng) {
        return fromSelfAttention(dense, heads, options, QkInit.QUERY, rng);
    }

    /**
     * From a trained PVT attention: qk ← q (QUERY) or the mean of q and the K rows of kv (MEAN);
     * v ← the V rows of kv; proj copied. The spatial reduction (sr conv and its norm) is dropped,
     * as the reference's LinAngular attention ignores sr_ratio: v now sees every token.
     */
    public static AddAttention fromSpatialReductionAttention(SpatialReductionAttention dense, int heads,
                                                             Options options, QkInit qkInit, SplittableRandom rng) {
        Linear q = dense.q();
        Linear kv = dense.kv();
        int dim = dense.proj().in();
        AddAttention a = new AddAttention(layerName(dense.proj()), dim, heads, q.bias() != null, options, rng);
        float[] qw = q.weight().value().data();
        float[] kvw = kv.weight().value().data();
        float[] qb = q.bias() == null ? null : q.bias().value().data();
        float[] kvb = kv.bias() == null ? null : kv.bias().value().data();
        a.initQk(qw, 0, kvw, 0, qb, 0, kvb, 0, qkInit);
        System.arraycopy(kvw, dim * dim, a.denseV().weight().value().data(), 0, dim * dim);
        if (a.denseV().bias() != null) {
            if (kvb == null) a.denseV().bias().value().fill(0f);
            else System.arraycopy(kvb, dim, a.denseV().bias().value().data(), 0, dim);
        }
        a.copyProj(dense.proj());
        return a;
    }

    /** {@link #fromSpatialReductionAttention(SpatialReductionAttention, int, Options, QkInit, SplittableRandom)} with QUERY. */
    public static AddAttention fromSpatialReductionAttention(SpatialReductionAttention dense, int heads,
                                                             Options options, SplittableRandom rng) {
        return fromSpatialReductionAttention(dense, heads, options, QkInit.QUERY, rng);
    }

    private static String layerName(Linear proj) {
        String n = proj.weight().name();
        String suffix = ".proj.weight";
        if (!n.endsWith(suffix)) throw new IllegalArgumentException("cannot derive the attention name from " + n);
        return n.substring(0, n.length() - suffix.length());
    }

    private Linear denseV() {
        return Linear.require(v);
    }

    private void initQk(float[] qw, int qwOff, float[] kw, int kwOff, float[] qb, int qbOff, float[] kb, int kbOff,
                        QkInit init) {
        Linear qk = Linear.require(this.qk);
        float[] w = qk.weight().value().data();
        int cc = dim * dim;
        for (int i = 0; i < cc; i++) w[i] = init == QkInit.MEAN ? 0.5f * (qw[qwOff + i] + kw[kwOff + i]) : qw[qwOff + i];
        if (qk.bias() != null) {
            float[] b = qk.bias().value().data();
            for (int i = 0; i < dim; i++) {
                float qv = qb == null ? 0f : qb[qbOff + i];
                float kv = kb == null ? 0f : kb[kbOff + i];
                b[i] = init == QkInit.MEAN ? 0.5f * (qv + kv) : qv;
            }
        }
    }

    private void copyProj(Linear src) {
        Linear proj = Linear.require(this.proj);
        System.arraycopy(src.weight().value().data(), 0, proj.weight().value().data(), 0, dim * dim);
        System.arraycopy(src.bias().value().data(), 0, proj.bias().value().data(), 0, dim);
    }

    // ---- accessors ----------------------------------------------------------------------------

    public String name() {
        return name;
    }

    public int heads() {
        return heads;
    }

    /** Code length r (KSH bits, or d for sign codes). */
    public int codeBits() {
        return bits;
    }

    public Options options() {
        return options;
    }

    /** The shared query/key projection: a dense Linear, or its MoE after {@link #replaceProjections}. */
    public Layer qk() {
        return qk;
    }

    public Layer v() {
        return v;
    }

    public Layer proj() {
        return proj;
    }

    /** Replaces qk, v and proj by convert(linear) (the MoE stage); all three must still be dense Linears. */
    public void replaceProjections(java.util.function.Function<Linear, Layer> convert) {
        Linear q = Linear.require(qk);
        Linear vv = Linear.require(v);
        Linear p = Linear.require(proj);
        qk = convert.apply(q);
        v = convert.apply(vv);
        proj = convert.apply(p);
    }

    public Parameter dwconvWeight() {
        return dwWeight;
    }

    /** The KSH state, or null for sign codes. */
    public KshHash hash() {
        return hash;
    }

    /** Non-trainable state for checkpoints ({@code <name>.hash.*}; empty for sign codes). */
    public Map<String, Tensor> buffers() {
        return hash == null ? Map.of() : hash.state();
    }

    /** Loads {@link #buffers()} by name and marks the hash trained (no-op for sign codes). */
    public void loadBuffers(Map<String, Tensor> tensors) {
        if (hash != null) hash.load(tensors);
    }

    /** Codes of the most recent forward pass (for deployment packing and tests; kept until the next forward). */
    public CodeEncoding lastEncoding() {
        return lastEncoding;
    }

    /** Test hook: with on, the next forward's codes are reused by every later forward and the STE path is cut. */
    void freezeCodes(boolean on) {
        frozen = on;
        frozenEncoding = null;
    }

    /**
     * Trains the KSH hash on a batch of block inputs x [B, N, C] (the qk projection of x,
     * normalised, as the reference does inside its first forward pass).
     */
    public KshTraining.TrainReport trainHash(Tensor x, SplittableRandom rng) {
        if (hash == null) throw new IllegalStateException(name + ": sign codes have no hash to train");
        checkInput(x);
        Tensor q = qk.forward(x, false);
        int rows = x.dim(0) * x.dim(1);
        float[] n = new float[rows * dim];
        normaliseRows(q.data(), n, new float[rows * heads], rows * heads);
        return KshTraining.train(hash, n, 0, dim, x.dim(0), x.dim(1), options.hashTraining(), rng);
    }

    /**
     * {@link #trainHash(Tensor, SplittableRandom)} with the layer's own hash rng (split from the
     * constructor's), the one {@code Reparam.trainHashes} uses; each call draws from it afresh.
     */
    public KshTraining.TrainReport trainHash(Tensor x) {
        return trainHash(x, hashRng);
    }

    // ---- forward / backward -------------------------------------------------------------------

    @Override
    public Tensor forward(Tensor x, boolean training) {
        checkInput(x);
        int b = x.dim(0);
        int n = x.dim(1);
        Tensor qkOut = qk.forward(x, training);
        Tensor vt = v.forward(x, training);
        return proj.forward(Tensor.of(mix(qkOut, vt, b, n, training), b, n, dim), training);
    }

    /**
     * x + attn(norm(x)) at inference with the LayerNorm and the qk and v projections, then proj and the
     * residual add, one row block per task, where every projection runs row blocks (dense, or deployed
     * shift-only); the same bits as the block's layer-by-layer path. Null where it does not apply.
     */
    @Override
    public Tensor forwardNormResidual(LayerNorm norm, Tensor x) {
        if (x.rank() != 3 || x.dim(2) != dim || norm.dim() != dim) return null;
        checkInput(x);
        int b = x.dim(0);
        int n = x.dim(1);
        int rows = b * n;
        if (!Linear.rowBlocked(rows) || !(qk instanceof RowLinear q) || !(v instanceof RowLinear vp)
                || !(proj instanceof RowLinear p) || !q.forwardsRows() || !vp.forwardsRows() || !p.forwardsRows()) {
            return null;
        }
        float[] xd = x.data();
        float[] qkd = new float[Math.multiplyExact(rows, q.out())];
        float[] vd = new float[Math.multiplyExact(rows, vp.out())];
        int block = RowBlocks.height(rows);
        RowBlocks.run(rows, (r0, m) -> {
            float[] normed = NORMED.get(block * dim);
            norm.forwardRows(xd, r0 * dim, normed, 0, m);
            q.forwardRows(rows, m, normed, 0, qkd, r0 * q.out());
            vp.forwardRows(rows, m, normed, 0, vd, r0 * vp.out());
        });
        float[] o = mix(Tensor.of(qkd, b, n, q.out()), Tensor.of(vd, b, n, vp.out()), b, n, false);
        return NormResidualAttention.projectAndAdd(p, o, x);
    }

    /** Per-thread normalised input rows of one block. */
    private static final ThreadScratch NORMED = new ThreadScratch();

    /**
     * The attention between the projections: codes of the normalised queries/keys, the two MatAdd
     * products, the normalisations and the depthwise conv on V; what {@link #proj} takes.
     */
    private float[] mix(Tensor qkOut, Tensor vt, int b, int n, boolean training) {
        int rows = b * n;
        int d = headDim;
        // The projections record themselves; this layer's entry times only what happens between them.
        long t0 = System.nanoTime();
        float[] vv = vt.data();
        float[] xnorm = new float[rows * dim];
        float[] qn = new float[rows * heads];
        normaliseRows(qkOut.data(), xnorm, qn, rows * heads);

        CodeEncoding e;
        if (frozen && frozenEncoding != null) {
            e = frozenEncoding;
        } else if (hash != null) {
            if (!hash.isTrained()) {
                throw new IllegalStateException(name + ": the KSH hash is untrained; train it with "
                        + "Reparam.trainHashes (or AddAttention.trainHash) or load it from a checkpoint");
            }
            e = hash.encode(xnorm, 0, dim, b, n, training && !frozen);
        } else {
            e = SignCodes.encode(xnorm, 0, dim, b, n, heads, d);
        }
        if (frozen && frozenEncoding == null) frozenEncoding = e;
        BitCodes codes = e.codes();
        if (codes.groups() != b * heads || codes.tokens() != n) {
            throw new ShapeException(name + ": frozen codes are for another input shape");
        }
        lastEncoding = e;

        int g = b * heads;
        float[] t = new float[g * bits * d];
        MatAdd.transposedTimesHeads(codes, heads, d, vv, 0, dim, t, 0);
        float[] u = new float[rows * dim];
        MatAdd.timesHeads(codes, heads, d, t, 0, u, 0, dim);
        float[] un = new float[rows * heads];
        Parallel.forRange(rows * heads, Math.max(1, 8192 / d), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int o = i * d;
                double ss = 0;
                for (int c = 0; c < d; c++) {
                    float val = 0.5f * vv[o + c] + INV_PI * u[o + c];
                    u[o + c] = val;
                    ss += (double) val * val;
                }
                float norm = (float) Math.sqrt(ss);
                un[i] = norm;
                for (int c = 0; c < d; c++) u[o + c] = norm > 0f ? u[o + c] / norm : 0f;
            }
        });
        float[] wexp = expandTaps();
        float[] out = new float[rows * dim];
        DwConvKernel.forward(vv, b, n, 1, dim, wexp, null, options.taps(), 1, out);
        Ops.add(u, out, out, rows * dim);
        if (training) {
            vOut = vt;
            xn = xnorm;
            qkNorm = qn;
            enc = e;
            tm = t;
            uhat = u;
            uNorm = un;
            tapsExpanded = wexp;
        } else {
            clearCache();
        }
        if (Profiler.active()) {
            long ksh = hash == null ? 0 : (long) rows * heads * options.anchors() * (d + bits);
            Profiler.record(name, "AddAttention", "[" + b + ", " + heads + ", " + n + ", " + d + "]",
                    ksh + (long) rows * dim * (options.taps() + 4), ops(rows, codes), t0);
        }
        return out;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (vOut == null) throw new IllegalStateException(name + ": backward without a training forward");
        Tensor dO = proj.backward(dy);
        long t0 = System.nanoTime();
        int b = vOut.dim(0);
        int n = vOut.dim(1);
        int rows = b * n;
        int d = headDim;
        int g = b * heads;
        int taps = options.taps();
        float[] go = dO.data();
        float[] vv = vOut.data();
        BitCodes codes = enc.codes();

        // conv: dV (overwritten) and the taps, summed per head
        float[] dv = new float[rows * dim];
        float[] dwExp = new float[dim * taps];
        DwConvKernel.backward(go, vv, b, n, 1, dim, tapsExpanded, taps, 1, dv, dwExp, null);
        float[] dw = dwWeight.grad().data();
        for (int h = 0; h < heads; h++) {
            for (int k = 0; k < taps; k++) {
                float s = 0f;
                for (int c = h * d; c < (h + 1) * d; c++) s += dwExp[c * taps + k];
                dw[h * taps + k] += s;
            }
        }
        // row normalisation of U, then U = ½V + P/π (dp holds dU until scaled to dP)
        float[] dp = new float[rows * dim];
        float[] un = uNorm;
        normaliseRowsBackward(uhat, un, go, dp, rows * heads);
        Parallel.forRange(rows * heads, Math.max(1, 8192 / d), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                if (!(un[i] > 0f)) continue;   // zero gradient: dV keeps its bits (adding 0 would turn −0 into +0)
                int o = i * d;
                for (int c = 0; c < d; c++) {
                    float du = dp[o + c];
                    dv[o + c] += 0.5f * du;
                    dp[o + c] = du * INV_PI;
                }
            }
        });
        // P = B·T with T = Bᵀ·V: dT = Bᵀ·dP, dV += B·dT (both MatAdd)
        float[] dt = new float[g * bits * d];
        MatAdd.transposedTimesHeads(codes, heads, d, dp, 0, dim, dt, 0);
        float[] bdt = new float[rows * dim];
        MatAdd.timesHeads(codes, heads, d, dt, 0, bdt, 0, dim);
        Ops.addInPlace(dv, bdt, rows * dim);

        Tensor dqk = Tensor.zeros(b, n, dim);
        if (!frozen) {
            // dB = dP·Tᵀ + V·dTᵀ per group, then the STE, the code map and the normalisation
            float[] db = new float[g * n * bits];
            float[] t = tm;
            Parallel.forRange(g, 1, (g0, g1) -> {
                for (int gi = g0; gi < g1; gi++) {
                    int off = (gi / heads) * n * dim + (gi % heads) * d;
                    Gemm.nt(n, bits, d, dp, off, dim, t, gi * bits * d, d, db, gi * n * bits, bits, false);
                    Gemm.nt(n, bits, d, vv, off, dim, dt, gi * bits * d, d, db, gi * n * bits, bits, true);
                }
            });
            float[] dxn = new float[rows * dim];
            if (hash != null) hash.backward(enc, db, xn, 0, dim, dxn);
            else SignCodes.backward(enc, db, 0, dim, heads, dxn);
            normaliseRowsBackward(xn, qkNorm, dxn, dqk.data(), rows * heads);
        }
        clearCache();
        if (Profiler.active()) {
            Profiler.record(name, "AddAttention/bwd", "[" + b + ", " + heads + ", " + n + ", " + d + "]",
                    2L * g * n * bits * d + (long) rows * dim * (2L * taps + 6), t0);
        }
        Tensor dx = qk.backward(dqk);
        Tensor dxv = v.backward(Tensor.of(dv, b, n, dim));
        Ops.addInPlace(dx.data(), dxv.data(), dx.size());
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(qk.parameters());
        p.addAll(v.parameters());
        p.add(dwWeight);
        p.addAll(proj.parameters());
        return p;
    }

    /** Operations of forward's own work (qk, v and proj record themselves); conventions in {@link OpCount}. */
    private OpCount ops(int rows, BitCodes codes) {
        long blocks = (long) rows * heads;
        long values = (long) rows * dim;
        OpCount encode = hash == null ? OpCount.signEncode(values)
                : OpCount.kshEncode(blocks, headDim, options.anchors(), bits);
        return OpCount.normalise(blocks, headDim) // qk/‖qk‖
                .plus(encode)
                .plus(OpCount.matAdd(codes, headDim)) // Bᵀ·V and B·T
                .plus(OpCount.elementwise(values, 2, 1)) // ½V + P/π
                .plus(OpCount.normalise(blocks, headDim)) // U/‖U‖
                .plus(OpCount.dense(values, options.taps(), 1, false)) // depthwise taps (padding counted)
                .plus(OpCount.elementwise(values, 0, 1)); // Û + DW(V)
    }

    private void clearCache() {
        vOut = null;
        xn = null;
        qkNorm = null;
        enc = null;
        tm = null;
        uhat = null;
        uNorm = null;
        tapsExpanded = null;
    }

    private void checkInput(Tensor x) {
        if (x.rank() != 3 || x.dim(2) != dim) {
            throw new ShapeException(name + ": expected [B, N, " + dim + "] but got " + x);
        }
    }

    /** The head taps [H, taps] repeated over each head's d channels: [C, taps]. */
    private float[] expandTaps() {
        int taps = options.taps();
        float[] w = dwWeight.value().data();
        float[] e = new float[dim * taps];
        for (int c = 0; c < dim; c++) System.arraycopy(w, (c / headDim) * taps, e, c * taps, taps);
        return e;
    }

    /**
     * Backward of {@link #normaliseRows} from its output y and norms: dx = (dy − y·(y·dy))/‖x‖ per
     * d-block (the dot accumulated in float, channels ascending), written to dx; blocks of norm 0
     * are left as they are (zero gradient).
     */
    private void normaliseRowsBackward(float[] y, float[] norms, float[] dy, float[] dx, int blocks) {
        int d = headDim;
        Parallel.forRange(blocks, Math.max(1, 8192 / d), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float norm = norms[i];
                if (!(norm > 0f)) continue;
                int o = i * d;
                float dot = 0f;
                for (int c = 0; c < d; c++) dot += y[o + c] * dy[o + c];
                for (int c = 0; c < d; c++) dx[o + c] = (dy[o + c] - y[o + c] * dot) / norm;
            }
        });
    }

    /** out = in / ‖in‖ over consecutive d-blocks (the head slices); norms[i] = ‖block i‖ (0 → 0). */
    private void normaliseRows(float[] in, float[] out, float[] norms, int blocks) {
        int d = headDim;
        Parallel.forRange(blocks, Math.max(1, 8192 / d), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int o = i * d;
                double ss = 0;
                for (int c = 0; c < d; c++) ss += (double) in[o + c] * in[o + c];
                float norm = (float) Math.sqrt(ss);
                norms[i] = norm;
                for (int c = 0; c < d; c++) out[o + c] = norm > 0f ? in[o + c] / norm : 0f;
            }
        });
    }
}
