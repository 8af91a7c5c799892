package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * DeepShift-Q linear layer (upstream {@code LinearShiftQ}, ShiftAddViT's {@code --shift_type Q}): a real
 * weight [out, in] that every forward rounds to a power of two.
 *
 * <p>Forward (spec §3.3, upstream {@code clampabs} + {@code round_power_of_2}):
 * <ol>
 *   <li>the weight is clamped in place to |w| ∈ [2^-15, 1] — exact zeros stay zero, as upstream's
 *       {@code clampabs} only touches strictly positive/negative entries;</li>
 *   <li>W = sign(w)·2^round(log₂|w|), rounding in the log domain (threshold √2·2^e, computed exactly by
 *       {@link ShiftCodes#log2Round}); shifts span [−15, 0] and the sign is binary except for exact 0;</li>
 *   <li>y = Q(x)·Wᵀ + Q(b), Q the Q16.16 floor quantizer.</li>
 * </ol>
 * Backward: identity straight-through, dW += dyᵀ·Q(x), db += Σ dy, dx = dy·W.
 *
 * <p>Decay flags as {@link Linear}: weight true, bias false. Note the −15 shift does not fit the 5-bit
 * ternary code of {@link ShiftCodes} ([−14, 0]); deploying a Q layer through MatShift needs
 * {@link dev.shiftaddvit.kernel.MatShift#pack} directly (it accepts any shift ≤ 0) or a clamp to −14.
 */
public final class ShiftLinearQ implements Layer {
    /** Smallest weight magnitude exponent (shift_range (−15, 0)). */
    public static final int MIN_SHIFT = -15;
    private static final float MIN_ABS = 0x1p-15f;

    private final String name;
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;
    private final FixedPointPass pass;

    /** Weight initialised like {@link Linear} (truncated normal, std 0.02), zero bias. */
    public ShiftLinearQ(String name, int in, int out, boolean bias, SplittableRandom rng) {
        this(name, in, out, bias);
        Init.truncNormal(weight.value().data(), 0.02f, rng);
    }

    /** Zero weight and bias; fill them through the parameters. */
    public ShiftLinearQ(String name, int in, int out, boolean bias) {
        if (in < 0 || out < 0) throw new IllegalArgumentException(name + ": negative size in=" + in + " out=" + out);
        this.name = name;
        this.in = in;
        this.out = out;
        this.weight = new Parameter(name + ".weight", Tensor.zeros(out, in), true);
        this.bias = bias ? new Parameter(name + ".bias", Tensor.zeros(out), false) : null;
        this.pass = new FixedPointPass(name, "ShiftLinearQ", in, out, this.bias);
    }

    /** Copies a dense Linear's weight and bias (DeepShift-Q conversion keeps the float weight). */
    public static ShiftLinearQ fromDense(String name, Linear dense) {
        ShiftLinearQ q = new ShiftLinearQ(name, dense.in(), dense.out(), dense.bias() != null);
        System.arraycopy(dense.weight().value().data(), 0, q.weight.value().data(), 0, dense.in() * dense.out());
        if (dense.bias() != null) System.arraycopy(dense.bias().value().data(), 0, q.bias.value().data(), 0, dense.out());
        return q;
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias parameter, or null. */
    public Parameter bias() {
        return bias;
    }

    /** Upstream {@code clampabs}: 0 stays 0, otherwise |w| is clamped into [2^-15, 1]. */
    public static float clampAbs(float w) {
        if (w > 0f) return Math.min(Math.max(w, MIN_ABS), 1f);
        if (w < 0f) return Math.max(Math.min(w, -MIN_ABS), -1f);
        return w;
    }

    /** sign(w)·2^round(log₂|w|) of an already clamped weight (0 for 0, NaN for NaN). */
    public static float roundPowerOfTwo(float w) {
        if (w == 0f || Float.isNaN(w)) return w;
        float p = Math.scalb(1f, ShiftCodes.log2Round(Math.abs(w)));
        return w < 0 ? -p : p;
    }

    /** Clamps the weight in place and returns the power-of-two weight [out, in] (fresh array). */
    public float[] quantizedWeight() {
        float[] w = weight.value().data();
        float[] q = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = clampAbs(w[i]);
            q[i] = roundPowerOfTwo(w[i]);
        }
        return q;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        return pass.forward(x, training, this::quantizedWeight);
    }

    /** The straight-through estimator: dW of the rounded weight goes to the float weight unchanged. */
    @Override
    public Tensor backward(Tensor dy) {
        return pass.backward(dy, (g, xq, rows) ->
                Gemm.tn(out, in, rows, g, 0, out, xq, 0, in, weight.grad().data(), 0, in, true));
    }

    @Override
    public List<Parameter> parameters() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }
}
