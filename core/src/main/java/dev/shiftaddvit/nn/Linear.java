package dev.shiftaddvit.nn;

import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/** y = x·Wᵀ + b over the last axis; W is [out, in] as in PyTorch. */
public final class Linear implements RowLinear {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;
    /** Inference on weights packed once (default); {@code -Dshiftaddvit.linear.prepack=false} packs per call. */
    static final boolean PREPACK = Boolean.parseBoolean(System.getProperty("shiftaddvit.linear.prepack", "true"));
    /** {@code -Dshiftaddvit.inference.fused=false} runs every layer of a block on its own, for measurements. */
    private static final boolean FUSED = Boolean.parseBoolean(System.getProperty("shiftaddvit.inference.fused", "true"));

    private Tensor input;
    private volatile Packed packed;

    public Linear(String name, int in, int out, boolean bias, SplittableRandom rng) {
        this.in = in;
        this.out = out;
        this.weight = new Parameter(name + ".weight", Tensor.zeros(out, in), true);
        Init.truncNormal(weight.value().data(), 0.02f, rng);
        this.bias = bias ? new Parameter(name + ".bias", Tensor.zeros(out), false) : null;
    }

    /** Checks that a slot still holds a dense Linear (a layer can be reparameterised only once). */
    public static Linear require(Layer layer) {
        if (layer instanceof Linear l) return l;
        throw new IllegalStateException("expected a dense Linear but found " + layer.getClass().getSimpleName());
    }

    /** The layer name: the weight's name without ".weight". */
    public String name() {
        String n = weight.name();
        return n.substring(0, n.length() - ".weight".length());
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (x.dim(-1) != in) {
            throw new ShapeException(weight.name() + ": expected last dimension " + in + " but input is " + x);
        }
        long t0 = System.nanoTime();
        int rows = x.size() / in;
        int[] shape = x.shape();
        shape[shape.length - 1] = out;
        Tensor y = Tensor.zeros(shape);
        if (PREPACK && !training && rows > Gemm.DOT_MAX_M) {
            Gemm.nt(rows, packedWeight(), x.data(), 0, in, y.data(), 0, out, false);
        } else {
            Gemm.nt(rows, out, in, x.data(), 0, in, weight.value().data(), 0, in, y.data(), 0, out, false);
        }
        if (bias != null) Ops.addBiasRows(y.data(), bias.value().data(), rows, out);
        input = training ? x : null;
        if (Profiler.active()) {
            Profiler.record(weight.name().replace(".weight", ""), "Linear", y, (long) rows * in * out,
                    OpCount.dense(rows, in, out, bias != null), t0);
        }
        return y;
    }

    /**
     * Whether a block's inference over this many rows runs fused, one row block per task
     * ({@link dev.shiftaddvit.kernel.RowBlocks}, {@link RowLinear#forwardRows}, where every projection
     * {@link RowLinear#forwardsRows}): past GEMM's dot path (a short product gains nothing from it), and
     * never under the per-layer profile, which names the layers one by one.
     */
    public static boolean rowBlocked(int rows) {
        return FUSED && !Profiler.active() && rows > Gemm.DOT_MAX_M;
    }

    /** Row blocks run on the prepacked weight ({@link #PREPACK}). */
    @Override
    public boolean forwardsRows() {
        return PREPACK;
    }

    /**
     * Inference on rows [0, m) of a product of {@code wholeRows} rows, on the calling thread, with the
     * bits of {@link #forward} on those rows: y[yOff + r·out] = x[xOff + r·in]·Wᵀ + b.
     */
    @Override
    public void forwardRows(int wholeRows, int m, float[] x, int xOff, float[] y, int yOff) {
        Gemm.ntBlock(wholeRows, m, packedWeight(), x, xOff, in, y, yOff, out, false);
        if (bias != null) Ops.addBiasRows(y, yOff, bias.value().data(), m, out);
    }

    /**
     * The weight packed for the GEMM micro-kernel, built on the first inference forward and again
     * whenever the weight's version moves (same bits as packing per call; see {@link Gemm.PackedB}).
     */
    Gemm.PackedB packedWeight() {
        Packed p = packed;
        int v = weight.version();
        if (p == null || p.version != v) {
            p = new Packed(Gemm.packNt(out, in, weight.value().data(), 0, in), v);
            packed = p;
        }
        return p.weight;
    }

    /** A packed weight and the version it was packed from, published together. */
    private record Packed(Gemm.PackedB weight, int version) {
    }

    @Override
    public Tensor backward(Tensor dy) {
        long t0 = System.nanoTime();
        Tensor x = input;
        int rows = x.size() / in;
        Gemm.tn(out, in, rows, dy.data(), 0, out, x.data(), 0, in, weight.grad().data(), 0, in, true);
        if (bias != null) Ops.sumRows(dy.data(), bias.grad().data(), rows, out);
        Tensor dx = Tensor.zeros(x.shape());
        Gemm.nn(rows, in, out, dy.data(), 0, out, weight.value().data(), 0, in, dx.data(), 0, in, false);
        input = null;
        if (Profiler.active()) {
            Profiler.record(weight.name().replace(".weight", ""), "Linear/bwd", dx, 2L * rows * in * out, t0);
        }
        return dx;
    }

    @Override
    public List<Parameter> parameters() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }
}
