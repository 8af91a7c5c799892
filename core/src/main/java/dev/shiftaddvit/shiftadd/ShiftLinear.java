package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.FixedPoint;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.MatShift;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

/**
 * DeepShift-PS linear layer (upstream {@code LinearShift}, the ShiftAddViT Shift expert), float
 * simulation used for training and as the reference of the {@link MatShift} deployment kernel.
 *
 * <p>Parameters (float32, as upstream): {@code <name>.shift} P [out, in], {@code <name>.sign} S
 * [out, in] and optional {@code <name>.bias} [out]. Forward (spec §3.1):
 * <ol>
 *   <li>P is clamped in place to [−14, 0] (its value changes, as upstream overwrites {@code .data});</li>
 *   <li>p = rint(P), s = signum(rint(S)), W = s·2^p;</li>
 *   <li>y = Q(x)·Wᵀ + Q(b) with Q the Q16.16 floor quantizer ({@link FixedPoint#quantize}), one float GEMM.</li>
 * </ol>
 * Backward (§3.4, straight-through): with g_W = dyᵀ·Q(x), dS += g_W, dP += g_W·s·2^p·ln 2 (= g_W·W·ln 2),
 * db += Σ dy, dx = dy·W; the quantizers, rint, signum and clamp pass gradients unchanged.
 *
 * <p><b>Weight decay</b>: shift decay = false — decoupled decay pulls P towards 0, i.e. weight magnitudes
 * towards 1, the opposite of shrinkage, and P is a log-magnitude. sign decay = true — pulling S towards
 * 0 moves weights towards the ternary zero (|S| ≤ 0.5), a sparsity prior comparable to L2 on a dense weight;
 * it also matches timm's grouping (every ≥2-D parameter decays), which upstream used for both. bias
 * decay = false, as {@link Linear}.
 */
public final class ShiftLinear implements Layer {
    private static final float LN2 = (float) Math.log(2.0);

    private final int in;
    private final int out;
    private final Parameter shift;
    private final Parameter sign;
    private final Parameter bias;
    private final String name;
    /** W of the last forward, [out, in]; cached for backward (W only changes through the parameters). */
    private final FixedPointPass pass;

    /**
     * A randomly initialised layer as upstream's {@code reset_parameters}: P ~ U(−14, 0), S ~ U(−1, 1),
     * bias ~ U(±1/√in). Converting a trained dense layer ({@link #fromDense}) is the usual route.
     */
    public ShiftLinear(String name, int in, int out, boolean bias, SplittableRandom rng) {
        this(name, in, out, bias);
        float[] p = shift.value().data();
        float[] s = sign.value().data();
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) rng.nextDouble(ShiftCodes.MIN_SHIFT, ShiftCodes.MAX_SHIFT);
            s[i] = (float) rng.nextDouble(-1, 1);
        }
        if (bias) {
            double bound = 1 / Math.sqrt(Math.max(1, in));
            float[] b = this.bias.value().data();
            for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextDouble(-bound, bound);
        }
    }

    /** A layer with all-zero weights (P = 0, S = 0) and zero bias; fill it through the parameters. */
    public ShiftLinear(String name, int in, int out, boolean bias) {
        if (in < 0 || out < 0) throw new IllegalArgumentException(name + ": negative size in=" + in + " out=" + out);
        this.name = name;
        this.in = in;
        this.out = out;
        this.shift = new Parameter(name + ".shift", Tensor.zeros(out, in), false);
        this.sign = new Parameter(name + ".sign", Tensor.zeros(out, in), true);
        this.bias = bias ? new Parameter(name + ".bias", Tensor.zeros(out), false) : null;
        this.pass = new FixedPointPass(name, "ShiftLinear", in, out, this.bias);
    }

    /** Converts a dense Linear (weights [out, in]) by sign and log-domain rounding (spec §3.4). */
    public static ShiftLinear fromDense(String name, Linear dense) {
        return fromDense(name, dense.weight().value().data(), dense.bias() == null ? null : dense.bias().value().data(),
                dense.out(), dense.in());
    }

    /**
     * Converts dense weights [out, in] (and a bias [out] or null): S = sign(w), P = round(log₂|w|) clamped
     * to [−14, 0]; w = 0 gives S = 0, P = −14; |w| &gt; 1 gives P = 0. The bias is copied (it is quantized
     * at each forward).
     */
    public static ShiftLinear fromDense(String name, float[] weight, float[] bias, int out, int in) {
        if (weight.length != (long) out * in) {
            throw new ShapeException(name + ": dense weight has " + weight.length + " values, expected [" + out + ", "
                    + in + "]");
        }
        if (bias != null && bias.length != out) {
            throw new ShapeException(name + ": dense bias has " + bias.length + " values, expected " + out);
        }
        ShiftLinear layer = new ShiftLinear(name, in, out, bias != null);
        byte[] s = new byte[weight.length];
        byte[] p = new byte[weight.length];
        ShiftCodes.fromDense(weight, s, p);
        float[] sv = layer.sign.value().data();
        float[] pv = layer.shift.value().data();
        for (int i = 0; i < weight.length; i++) {
            sv[i] = s[i];
            pv[i] = p[i];
        }
        if (bias != null) System.arraycopy(bias, 0, layer.bias.value().data(), 0, out);
        return layer;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    public Parameter shift() {
        return shift;
    }

    public Parameter sign() {
        return sign;
    }

    /** The bias parameter, or null. */
    public Parameter bias() {
        return bias;
    }

    /** Clamps P in place to [−14, 0], as every forward does. */
    public void clampShift() {
        float[] p = shift.value().data();
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.min(Math.max(p[i], (float) ShiftCodes.MIN_SHIFT), (float) ShiftCodes.MAX_SHIFT);
        }
    }

    /** Effective weight W = signum(rint(S))·2^rint(clamp(P)) [out, in], a fresh array; clamps P in place. */
    public float[] effectiveWeight() {
        clampShift();
        float[] p = shift.value().data();
        float[] s = sign.value().data();
        float[] w = new float[p.length];
        for (int i = 0; i < w.length; i++) {
            float sg = Math.signum((float) Math.rint(s[i]));
            w[i] = sg == 0f ? 0f : sg * Math.scalb(1f, (int) Math.rint(p[i]));
        }
        return w;
    }

    /** The deploy codes ([out, in], one U8 per weight, layout in {@link ShiftCodes}); clamps P in place. */
    public byte[] codes() {
        clampShift();
        byte[] sg = new byte[in * out];
        byte[] sh = new byte[in * out];
        ShiftCodes.fromParameters(shift.value().data(), sign.value().data(), sg, sh);
        return ShiftCodes.pack(sg, sh);
    }

    /** Raw Q16.16 bias (toFixed(b)), or null without bias. */
    public int[] fixedBias() {
        if (bias == null) return null;
        int[] b = new int[out];
        FixedPoint.toFixed(bias.value().data(), 0, b, 0, out);
        return b;
    }

    /** The integer deployment form of the current parameters for {@link MatShift#forward} and friends. */
    public MatShift.Packed toMatShift() {
        return ShiftCodes.toMatShift(codes(), out, in, fixedBias());
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        return pass.forward(x, training, this::effectiveWeight);
    }

    /** dW reaches the sign directly and the shift as dW·w·ln 2 (w = S·2^P). */
    @Override
    public Tensor backward(Tensor dy) {
        return pass.backward(dy, (g, xq, rows) -> {
            float[] w = pass.weight();
            float[] gw = new float[out * in];
            Gemm.tn(out, in, rows, g, 0, out, xq, 0, in, gw, 0, in, false);
            float[] ds = sign.grad().data();
            float[] dp = shift.grad().data();
            for (int i = 0; i < gw.length; i++) {
                ds[i] += gw[i];
                dp[i] += gw[i] * w[i] * LN2;
            }
        });
    }

    @Override
    public List<Parameter> parameters() {
        return bias == null ? List.of(shift, sign) : List.of(shift, sign, bias);
    }
}
