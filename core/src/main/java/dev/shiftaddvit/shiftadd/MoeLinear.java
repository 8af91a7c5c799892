package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.kernel.Softmax;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.RowLinear;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * A linear layer as a top-1 mixture of a Mult expert (dense {@link Linear}) and a Shift expert
 * ({@link ShiftLinear}, DeepShift-PS), routed per token by a trained router (spec §4; upstream
 * {@code PyTorchFMoE_FC}). Maps [..., in] → [..., out]; the router sees the flattened tokens [T, in].
 *
 * <p><b>Names</b> (upstream's): {@code <name>.gate.gate.weight} [2, in] and {@code .bias} [2] (router,
 * trunc-normal 0.02 / zeros), {@code <name>.experts.0.weight} / {@code .bias} (Mult),
 * {@code <name>.experts.1.shift} / {@code .sign} / {@code .bias} (Shift). Expert indices: {@link #MULT} = 0,
 * {@link #SHIFT} = 1.
 *
 * <p><b>Forward</b>: z = router(x) [T, 2], p = softmax(z), expert e(t) = argmax z (ties and NaN → Mult);
 * token indices are grouped per expert stably (ascending token order); each expert's rows are gathered
 * (one row copy per token), the expert runs <b>once</b> over all its rows (one GEMM; an expert with no
 * token is not called), and the rows are scattered back, multiplied by the gate:
 * <ul>
 *   <li>{@link GateMode#STRAIGHT_THROUGH} (the default): y_t = y_e(x_t)·p_e/stopgrad(p_e). The forward value
 *       is the expert output exactly, so a freshly converted layer whose router sends everything to Mult
 *       is bit-identical to its dense parent, and deployment needs no multiply by p (the Shift rows are
 *       pure shift/add output). The router still learns from the task: ∂L/∂p_e = ⟨∂L/∂y_t, y_e⟩/p_e,
 *       i.e. ∂L/∂z_j = ⟨∂L/∂y_t, y_e⟩(δ_ej − p_j).</li>
 *   <li>{@link GateMode#PROBABILITY}: y_t = p_e·y_e(x_t), literally as the issue and upstream's unused
 *       {@code NoisyGate_V2} (Switch-Transformer style). ∂L/∂z_j = ⟨∂L/∂y_t, y_e⟩·p_e(δ_ej − p_j): for two
 *       experts the chosen p_e ∈ [0.5, 1], so the router gradient differs from STRAIGHT_THROUGH's by at most a
 *       factor 2, but the forward value is scaled by p_e ≈ 0.5 right after conversion (the router starts
 *       near uniform), which halves every converted layer of a trained parent, and deployment would need
 *       a float multiply per output. That is why it is not the default.</li>
 * </ul>
 * Upstream's combine {@code log(scatter(exp(y)·g) + 2.22e-16)} (a log-space artefact, §4.4) is <b>not</b>
 * applied: it only floors outputs below ≈ −36 and overflows above 88.7. No noise is added to the logits
 * (upstream's {@code NoisyGate_V2} adds ε/2 in training; {@code NaiveGate}, the one upstream uses, adds none).
 *
 * <p><b>Load balancing</b> (training forwards only, {@link LoadBalance}): Imp_e = Σ_t p_{t,e} (differentiable),
 * Load_e = tokens routed to e (an integer count), and L_bal = coef·(CV²(α⊙Imp) + CV²(α⊙Load)) with coef
 * {@link #DEFAULT_BALANCE_COEF}. The count is piecewise constant in the parameters, so by default
 * ({@link LoadGradient#NONE}) the load term carries <b>no gradient</b> and the router's balance gradient comes
 * from the importance term only (there is no logit noise from which to build Shazeer's smooth estimate).
 * {@link LoadGradient#STRAIGHT_THROUGH} instead keeps the count as the value and differentiates it as if
 * Load_e were Σ_t p_{t,e} (the same relaxation of the one-hot choice the gate uses): ∂/∂p_{t,e} of the load
 * term is coef·α_e·∂CV²/∂v_e at v = α⊙Load. That pulls the router towards balanced <i>counts</i> (what the
 * latency depends on) even where the importances are already balanced, e.g. every token at p = (0.4, 0.6),
 * which balances Imp while sending every token to Shift. {@link #balanceLoss()} returns L_bal of the last
 * training forward (coefficient included; the value is the same in both load modes), and {@link #backward} adds its
 * gradient w.r.t. the router logits, so a trainer only adds the values to the loss it reports.
 * α_e ∝ latency of expert e ({@link ExpertLatency}), so the faster expert gets more tokens.
 *
 * <p><b>Backward</b>: each expert's {@code backward} runs once on its gathered output gradients (scaled by
 * p_e in PROBABILITY mode); dx = scatter(expert dx) + router dx, where the router receives the gate term
 * and the balance term through the softmax. Routing itself (argmax) has no gradient.
 *
 * <p>Routing statistics of every forward (training or not) are kept: {@link #lastTokensPerExpert()},
 * {@link #lastRoutes()} and the running {@link #tokensPerExpert()} (reset with {@link #resetRoutingStats()}).
 * Not thread-safe (a layer caches its last forward, like every {@link Layer}).
 */
public final class MoeLinear implements RowLinear {
    /** How the chosen expert's output is gated by the router probability. */
    public enum GateMode {
        /** y = p_e·y_e: value scaled by the probability (issue text, upstream NoisyGate_V2). */
        PROBABILITY,
        /** y = y_e·p_e/stopgrad(p_e): value y_e, router gradient as if scaled by p_e (default). */
        STRAIGHT_THROUGH
    }

    /** Whether the load term of the balance loss (a token count) contributes a gradient. */
    public enum LoadGradient {
        /** The count's true gradient, zero: only the importance term trains the router (default). */
        NONE,
        /** Value = count, gradient as if Load_e = Σ_t p_{t,e} (straight-through). */
        STRAIGHT_THROUGH
    }

    /** Index of the Mult (dense) expert. */
    public static final int MULT = 0;
    /** Index of the Shift expert. */
    public static final int SHIFT = 1;
    /** Number of experts. */
    public static final int EXPERTS = 2;
    /** The default gate mode (see the class comment for why). */
    public static final GateMode DEFAULT_MODE = GateMode.STRAIGHT_THROUGH;
    /** Upstream's {@code loss_coef}. */
    public static final float DEFAULT_BALANCE_COEF = 0.01f;

    private final String name;
    private final int in;
    private final int out;
    private final Linear gate;
    private final Linear mult;
    private final ShiftLinear shift;
    /** What forward/backward call per expert: the experts themselves (tests may wrap them). */
    private final Layer[] run;
    private final float[] alpha = new float[EXPERTS];
    private GateMode mode;
    private float balanceCoef = DEFAULT_BALANCE_COEF;
    private LoadGradient loadGradient = LoadGradient.NONE;
    private int forcedExpert = -1;
    private int[] routeOverride;
    /** The integer Shift expert that {@link #deploy()} put in run[SHIFT], else null. */
    private ShiftLinearDeployed deployed;
    /** Deployed without router and Mult expert ({@link #deployShiftOnly()}): every token runs the Shift expert. */
    private boolean shiftOnly;

    private final int[] lastTokens = new int[EXPERTS];
    private final long[] totalTokens = new long[EXPERTS];
    private final double[] lastImportance = new double[EXPERTS];
    private int[] lastRoutes = new int[0];
    private double balanceLoss;

    // Cached by a training forward for backward.
    private boolean cached;
    private int[] inputShape;
    private int rows;
    private float[] probs;
    private int[][] groups;
    private float[][] expertOut;
    private double[] balanceGrad;

    /**
     * A layer with fresh parameters (router trunc-normal 0.02 and zero bias; Mult as a fresh {@link Linear};
     * Shift as upstream's random {@link ShiftLinear}), for loading a checkpoint into; converting a trained
     * dense layer ({@link #fromDense}) is the usual route.
     */
    public MoeLinear(String name, int in, int out, boolean bias, float[] alpha, GateMode mode, SplittableRandom rng) {
        this(name, new Linear(name + ".gate.gate", in, EXPERTS, true, rng),
                new Linear(name + ".experts.0", in, out, bias, rng),
                new ShiftLinear(name + ".experts.1", in, out, bias, rng), alpha, mode);
    }

    private MoeLinear(String name, Linear gate, Linear mult, ShiftLinear shift, float[] alpha, GateMode mode) {
        if (mult.in() < 1 || mult.out() < 1) {
            throw new IllegalArgumentException(name + ": MoE needs in, out >= 1, got in=" + mult.in() + " out="
                    + mult.out());
        }
        this.name = name;
        this.in = mult.in();
        this.out = mult.out();
        this.gate = gate;
        this.mult = mult;
        this.shift = shift;
        this.run = new Layer[]{mult, shift};
        setAlpha(alpha);
        setMode(mode);
    }

    /** {@link #fromDense(String, Linear, float[], GateMode, SplittableRandom)} with {@link #DEFAULT_MODE}. */
    public static MoeLinear fromDense(String name, Linear dense, float[] alpha, SplittableRandom rng) {
        return fromDense(name, dense, alpha, DEFAULT_MODE, rng);
    }

    /**
     * Converts a trained dense layer: the Mult expert is a copy of its weights and bias, the Shift expert
     * {@link ShiftLinear#fromDense} of the same weights, the router is fresh (trunc-normal 0.02 from rng,
     * zero bias). The dense layer is not modified or shared.
     *
     * @param alpha latency weights (Mult, Shift), finite and positive, e.g. {@link ExpertLatency.Measurement#alpha()}
     */
    public static MoeLinear fromDense(String name, Linear dense, float[] alpha, GateMode mode, SplittableRandom rng) {
        int in = dense.in();
        int out = dense.out();
        boolean bias = dense.bias() != null;
        Linear gate = new Linear(name + ".gate.gate", in, EXPERTS, true, rng);
        // The initial values of the copy are overwritten; a private generator keeps rng's stream for the router only.
        Linear mult = new Linear(name + ".experts.0", in, out, bias, new SplittableRandom(0));
        System.arraycopy(dense.weight().value().data(), 0, mult.weight().value().data(), 0, in * out);
        if (bias) System.arraycopy(dense.bias().value().data(), 0, mult.bias().value().data(), 0, out);
        ShiftLinear shift = ShiftLinear.fromDense(name + ".experts.1", dense);
        return new MoeLinear(name, gate, mult, shift, alpha, mode);
    }

    public String name() {
        return name;
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    /** The router Linear(in → 2) with bias ({@code <name>.gate.gate}). */
    public Linear gate() {
        return gate;
    }

    /** Expert 0, the dense Mult expert ({@code <name>.experts.0}). */
    public Linear mult() {
        return mult;
    }

    /** Expert 1, the Shift expert ({@code <name>.experts.1}). */
    public ShiftLinear shift() {
        return shift;
    }

    /** The latency weights α (Mult, Shift), a copy. */
    public float[] alpha() {
        return alpha.clone();
    }

    /**
     * Sets α (Mult, Shift): two finite positive numbers, α_e proportional to expert e's latency (only the
     * ratio matters; {@link ExpertLatency} normalises to sum 1).
     */
    public void setAlpha(float[] a) {
        if (a == null || a.length != EXPERTS) {
            throw new IllegalArgumentException(name + ": alpha needs " + EXPERTS + " entries (Mult, Shift), got "
                    + (a == null ? "null" : Integer.toString(a.length)));
        }
        for (float v : a) {
            if (!(v > 0) || Float.isInfinite(v)) {
                throw new IllegalArgumentException(name + ": alpha entries must be finite and positive, got "
                        + java.util.Arrays.toString(a));
            }
        }
        System.arraycopy(a, 0, alpha, 0, EXPERTS);
    }

    public GateMode mode() {
        return mode;
    }

    public void setMode(GateMode mode) {
        if (mode == null) throw new IllegalArgumentException(name + ": gate mode is null");
        this.mode = mode;
    }

    /** The coefficient of the balance loss (default 0.01). */
    public float balanceCoefficient() {
        return balanceCoef;
    }

    /** Sets the balance-loss coefficient; 0 turns the loss (value and gradient) off. */
    public void setBalanceCoefficient(float coef) {
        if (!(coef >= 0) || Float.isInfinite(coef)) {
            throw new IllegalArgumentException(name + ": balance coefficient must be finite and >= 0, got " + coef);
        }
        this.balanceCoef = coef;
    }

    public LoadGradient loadGradient() {
        return loadGradient;
    }

    /** Chooses whether the load term contributes a (straight-through) gradient; default {@link LoadGradient#NONE}. */
    public void setLoadGradient(LoadGradient lg) {
        if (lg == null) throw new IllegalArgumentException(name + ": load gradient mode is null");
        this.loadGradient = lg;
    }

    /**
     * Sends every token to one expert ({@link #MULT} or {@link #SHIFT}) instead of the router's choice, or
     * -1 to let the router decide (default). For analysis (e.g. an all-Mult or all-Shift evaluation); the
     * router probabilities, the gate and the balance loss are still computed.
     */
    public void forceExpert(int expert) {
        if (expert < -1 || expert >= EXPERTS) {
            throw new IllegalArgumentException(name + ": forced expert must be -1, 0 or 1, got " + expert);
        }
        this.forcedExpert = expert;
    }

    /**
     * Fixes the expert of each token row (length T, entries 0 or 1) for the following forwards, or null to
     * return to the router (takes precedence over {@link #forceExpert}). Freezes routing for gradient checks.
     */
    public void overrideRoutes(int[] routes) {
        if (routes != null) {
            for (int i = 0; i < routes.length; i++) {
                if (routes[i] != MULT && routes[i] != SHIFT) {
                    throw new IllegalArgumentException(name + ": route of row " + i + " is " + routes[i]
                            + ", expected 0 or 1");
                }
            }
        }
        this.routeOverride = routes == null ? null : routes.clone();
    }

    /** Tokens per expert of the last forward (training or not), a copy. */
    public int[] lastTokensPerExpert() {
        return lastTokens.clone();
    }

    /** The expert of each token row of the last forward, a copy. */
    public int[] lastRoutes() {
        return lastRoutes.clone();
    }

    /** Tokens per expert summed over forwards since construction or {@link #resetRoutingStats()}, a copy. */
    public long[] tokensPerExpert() {
        return totalTokens.clone();
    }

    public void resetRoutingStats() {
        totalTokens[MULT] = 0;
        totalTokens[SHIFT] = 0;
    }

    /** Imp_e = Σ_t p_{t,e} of the last forward that computed probabilities (training, or PROBABILITY gates), a copy. */
    public double[] lastImportance() {
        return lastImportance.clone();
    }

    /**
     * coef·(CV²(α⊙Imp) + CV²(α⊙Load)) of the last training forward (0 before any, or with coef 0); its
     * gradient is added by {@link #backward}.
     */
    public double balanceLoss() {
        return balanceLoss;
    }

    /**
     * Freezes the Shift expert's current codes into {@link ShiftLinearDeployed} (a shift kernel) and runs
     * that instead; the router and the Mult expert stay float. The layer is inference-only from then on
     * (backward throws). Idempotent.
     */
    public void deploy() {
        if (deployed != null) return;
        deployed = ShiftLinearDeployed.of(name + ".experts." + SHIFT, shift);
        run[SHIFT] = deployed;
    }

    public boolean isDeployed() {
        return deployed != null;
    }

    /**
     * {@link #deploy()} without the router and the Mult expert: every token runs the deployed Shift expert
     * (what the router did for (nearly) every token of a layer on the calibration data), so a forward is
     * the shift kernel alone, no router product, and the deploy file drops the router's and the Mult
     * expert's weights. Refused in PROBABILITY gate mode, where the router's probability scales the
     * output. Idempotent.
     */
    public void deployShiftOnly() {
        if (mode == GateMode.PROBABILITY) {
            throw new IllegalStateException(name + ": a PROBABILITY-gated layer scales its output by the router, "
                    + "so it cannot drop the router");
        }
        deploy();
        shiftOnly = true;
    }

    /** Row-blocked inference ({@link RowLinear}) is there for a shift-only layer: its Shift expert alone. */
    @Override
    public boolean forwardsRows() {
        return shiftOnly;
    }

    /** Rows of a shift-only layer's inference on the calling thread, counted in the routing statistics. */
    @Override
    public void forwardRows(int wholeRows, int m, float[] x, int xOff, float[] y, int yOff) {
        if (!shiftOnly) throw new IllegalStateException(name + ": only a shift-only layer runs row blocks");
        synchronized (totalTokens) {
            lastTokens[MULT] = 0;
            lastTokens[SHIFT] = wholeRows;
            totalTokens[SHIFT] += m;
        }
        deployed.forwardRows(wholeRows, m, x, xOff, y, yOff);
    }

    /** Whether {@link #deployShiftOnly()} dropped this layer's router and Mult expert. */
    public boolean isShiftOnly() {
        return shiftOnly;
    }

    /** The deployed Shift expert, or null before {@link #deploy()}. */
    public ShiftLinearDeployed deployedShift() {
        return deployed;
    }

    /** Replaces what forward/backward call for expert e (tests: counting or recording wrappers). */
    void wrapExpert(int e, UnaryOperator<Layer> wrap) {
        run[e] = wrap.apply(run[e]);
    }

    /**
     * Route, dispatch, experts, balance: the router picks an expert per token, each expert runs on the
     * rows gathered for it, its rows are scattered back (scaled by the gate in PROBABILITY mode), and
     * a training forward computes the balance loss and its gradient for backward.
     */
    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (x.rank() < 1 || x.dim(-1) != in) {
            throw new ShapeException(name + ": expected last dimension " + in + " but input is " + x);
        }
        int[] shape = x.shape();
        int t = x.size() / in;
        int[] outShape = shape.clone();
        outShape[shape.length - 1] = out;
        if (shiftOnly) return forwardShiftOnly(x, t, training, outShape);
        float[] logits = gate.forward(x.reshape(t, in), training).data();
        int[][] idx = routeTokens(logits, t);
        if (!training && mode == GateMode.STRAIGHT_THROUGH) {
            // Inference needs neither probabilities nor the balance terms; one expert taking every token
            // runs on the input as it is, without gathering and scattering rows.
            clearCache();
            for (int e = 0; e < EXPERTS; e++) {
                if (idx[e].length == t) return run[e].forward(x.reshape(t, in), false).reshape(outShape);
            }
        }
        float[] p = new float[t * EXPERTS];
        Softmax.forwardRows(logits, 0, p, 0, t, EXPERTS);
        float[] y = new float[Math.multiplyExact(t, out)];
        float[][] ye = new float[EXPERTS][];
        for (int e = 0; e < EXPERTS; e++) {
            ye[e] = runExpert(e, gatherRows(x.data(), idx[e], in), idx[e].length, training);
            combine(e, ye[e], idx[e], p, y);
        }
        double[] imp = importance(p, t);
        if (training) {
            balanceLoss = balance(imp);
            cached = true;
            inputShape = shape.clone();
            rows = t;
            probs = p;
            groups = idx;
            expertOut = ye;
        } else {
            clearCache();
        }
        return Tensor.of(y, outShape);
    }

    /** A shift-only layer's forward: the Shift expert on every token, counted as such in the statistics. */
    private Tensor forwardShiftOnly(Tensor x, int t, boolean training, int[] outShape) {
        if (training) throw new IllegalStateException(name + ": a shift-only deployed layer is inference-only");
        lastTokens[MULT] = 0;
        lastTokens[SHIFT] = t;
        totalTokens[SHIFT] += t;
        lastRoutes = new int[t];
        Arrays.fill(lastRoutes, SHIFT);
        if (Profiler.active()) Profiler.recordRouting(name, "[" + t + ", " + out + "]", 0, t);
        clearCache();
        return run[SHIFT].forward(x.reshape(t, in), false).reshape(outShape);
    }

    /** The expert of each token, grouped per expert, with the routing statistics updated. */
    private int[][] routeTokens(float[] logits, int t) {
        int[] route = route(logits, t);
        int[][] idx = group(route);
        for (int e = 0; e < EXPERTS; e++) {
            lastTokens[e] = idx[e].length;
            totalTokens[e] += idx[e].length;
        }
        lastRoutes = route;
        // The router and the experts record their own operations; this entry adds the token split.
        if (Profiler.active()) {
            Profiler.recordRouting(name, "[" + t + ", " + out + "]", lastTokens[MULT], lastTokens[SHIFT]);
        }
        return idx;
    }

    /** Expert e on its n gathered rows; its output rows (empty when no token chose it). */
    private float[] runExpert(int e, float[] xe, int n, boolean training) {
        if (n == 0) return new float[0];
        Tensor r = run[e].forward(Tensor.of(xe, n, in), training);
        if (r.size() != n * out) {
            throw new ShapeException(name + ": expert " + e + " returned " + r + " for " + n + " rows of " + out);
        }
        return r.data();
    }

    /** Scatters expert e's rows into y at their tokens, scaled by the gate probability in PROBABILITY mode. */
    private void combine(int e, float[] yr, int[] ix, float[] p, float[] y) {
        if (mode != GateMode.PROBABILITY) {
            scatterRows(yr, ix, out, y);
            return;
        }
        for (int i = 0; i < ix.length; i++) {
            int tok = ix[i];
            float g = p[tok * EXPERTS + e];
            int so = i * out;
            int dOff = tok * out;
            for (int o = 0; o < out; o++) y[dOff + o] = g * yr[so + o];
        }
    }

    /** Imp_e = Σ_t p_{t,e}, also kept as {@link #lastImportance()}. */
    private double[] importance(float[] p, int t) {
        double[] imp = new double[EXPERTS];
        for (int i = 0; i < t; i++) {
            imp[MULT] += p[i * EXPERTS + MULT];
            imp[SHIFT] += p[i * EXPERTS + SHIFT];
        }
        System.arraycopy(imp, 0, lastImportance, 0, EXPERTS);
        return imp;
    }

    /** The balance loss of a training forward; sets {@link #balanceGrad} (null when the coefficient is 0). */
    private double balance(double[] imp) {
        double[] load = {lastTokens[MULT], lastTokens[SHIFT]};
        if (balanceCoef == 0f) {
            balanceGrad = null;
            return 0.0;
        }
        // coef·∂L_bal/∂Imp_e (+ the straight-through load gradient, which reaches p the same way).
        balanceGrad = LoadBalance.weightedGradient(alpha, imp);
        double[] lg = loadGradient == LoadGradient.STRAIGHT_THROUGH
                ? LoadBalance.weightedGradient(alpha, load) : new double[EXPERTS];
        for (int e = 0; e < EXPERTS; e++) balanceGrad[e] = balanceCoef * (balanceGrad[e] + lg[e]);
        return balanceCoef * LoadBalance.loss(alpha, imp, load);
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (deployed != null) throw new IllegalStateException(name + ": deployed, inference-only (no backward)");
        if (!cached) throw new IllegalStateException(name + ": backward without a training forward");
        int t = rows;
        if (dy.size() != t * out) {
            throw new ShapeException(name + ": gradient " + dy + " does not match output rows " + t + " x " + out);
        }
        float[] dx = new float[t * in];
        // Per token: c = the gate term's coefficient of (δ_ej − p_j) in ∂L/∂z_j.
        double[] c = new double[t];
        for (int e = 0; e < EXPERTS; e++) {
            int[] ix = groups[e];
            if (ix.length == 0) continue;
            float[] ge = gatherRows(dy.data(), ix, out);
            gateCoefficients(e, ix, ge, c);
            Tensor dxe = run[e].backward(Tensor.of(ge, ix.length, out));
            scatterRows(dxe.data(), ix, in, dx);
        }
        Tensor dxr = gate.backward(Tensor.of(routerGradient(c, t), t, EXPERTS));
        Ops.addInPlace(dx, dxr.data(), t * in);
        int[] shape = inputShape;
        clearCache();
        return Tensor.of(dx, shape);
    }

    /**
     * For expert e's tokens: c[tok] from the dot of the output gradient with the expert's output; in
     * PROBABILITY mode the gradient rows ge are scaled by the gate for the expert's backward.
     */
    private void gateCoefficients(int e, int[] ix, float[] ge, double[] c) {
        float[] ye = expertOut[e];
        for (int i = 0; i < ix.length; i++) {
            int tok = ix[i];
            int o0 = i * out;
            double dot = 0;
            for (int o = 0; o < out; o++) dot += (double) ge[o0 + o] * ye[o0 + o];
            if (mode == GateMode.PROBABILITY) {
                float pe = probs[tok * EXPERTS + e];
                c[tok] = dot * pe;
                for (int o = 0; o < out; o++) ge[o0 + o] *= pe;
            } else {
                // ∂L/∂p_e = dot/p_e, times the softmax Jacobian p_e(δ_ej − p_j): the p_e cancel.
                c[tok] = dot;
            }
        }
    }

    /** ∂L/∂z of the router logits [T, 2]: the gate term through the softmax plus the balance gradient. */
    private float[] routerGradient(double[] c, int t) {
        float[] p = probs;
        float[] dz = new float[t * EXPERTS];
        double[] gi = balanceGrad;
        int[] chosen = new int[t];
        for (int e = 0; e < EXPERTS; e++) for (int tok : groups[e]) chosen[tok] = e;
        for (int tok = 0; tok < t; tok++) {
            int base = tok * EXPERTS;
            double bal = 0;
            if (gi != null) for (int k = 0; k < EXPERTS; k++) bal += p[base + k] * gi[k];
            for (int j = 0; j < EXPERTS; j++) {
                double pj = p[base + j];
                double v = c[tok] * ((j == chosen[tok] ? 1.0 : 0.0) - pj);
                if (gi != null) v += pj * (gi[j] - bal);
                dz[base + j] = (float) v;
            }
        }
        return dz;
    }

    /** Rows ix of src ([*, width]) packed in order: [ix.length, width]. */
    private static float[] gatherRows(float[] src, int[] ix, int width) {
        float[] dst = new float[ix.length * width];
        for (int i = 0; i < ix.length; i++) System.arraycopy(src, ix[i] * width, dst, i * width, width);
        return dst;
    }

    /** The inverse of {@link #gatherRows}: row i of src goes to row ix[i] of dst. */
    private static void scatterRows(float[] src, int[] ix, int width, float[] dst) {
        for (int i = 0; i < ix.length; i++) System.arraycopy(src, i * width, dst, ix[i] * width, width);
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(gate.parameters());
        ps.addAll(mult.parameters());
        ps.addAll(shift.parameters());
        return Collections.unmodifiableList(ps);
    }

    private int[] route(float[] logits, int t) {
        int[] r = new int[t];
        if (routeOverride != null) {
            if (routeOverride.length != t) {
                throw new ShapeException(name + ": route override has " + routeOverride.length + " rows but the input has "
                        + t);
            }
            System.arraycopy(routeOverride, 0, r, 0, t);
        } else if (forcedExpert >= 0) {
            java.util.Arrays.fill(r, forcedExpert);
        } else {
            for (int i = 0; i < t; i++) r[i] = logits[i * EXPERTS + SHIFT] > logits[i * EXPERTS + MULT] ? SHIFT : MULT;
        }
        return r;
    }

    /** Token indices per expert in ascending order (a stable grouping). */
    private static int[][] group(int[] route) {
        int nShift = 0;
        for (int r : route) nShift += r;
        int[][] idx = {new int[route.length - nShift], new int[nShift]};
        int a = 0;
        int b = 0;
        for (int i = 0; i < route.length; i++) {
            if (route[i] == SHIFT) idx[SHIFT][b++] = i;
            else idx[MULT][a++] = i;
        }
        return idx;
    }

    private void clearCache() {
        cached = false;
        inputShape = null;
        probs = null;
        groups = null;
        expertOut = null;
        balanceGrad = null;
    }
}
