package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.function.Supplier;

/**
 * One DeepShift layer's passes through {@link FixedPointLinear}: the shape checks, what backward
 * needs from forward, and the profiler entries. The layers differ only in how their effective
 * power-of-two weight is made and how its gradient reaches their parameters.
 */
final class FixedPointPass {
    /** Accumulates the layer's parameter gradients from dy [rows, out] and the quantised input [rows, in]. */
    @FunctionalInterface
    interface WeightGradient {
        void accumulate(float[] dy, float[] xq, int rows);
    }

    private final String name;
    private final String kind;
    private final int in;
    private final int out;
    private final Parameter bias;
    private float[] weight;
    private Tensor inputQ;
    private int[] inputShape;

    FixedPointPass(String name, String kind, int in, int out, Parameter bias) {
        this.name = name;
        this.kind = kind;
        this.in = in;
        this.out = out;
        this.bias = bias;
    }

    /** y = Q(x)·Wᵀ + Q(b) with W = effectiveWeight() [out, in], computed inside the timed region. */
    Tensor forward(Tensor x, boolean training, Supplier<float[]> effectiveWeight) {
        if (x.rank() < 1 || x.dim(-1) != in) {
            throw new ShapeException(name + ": expected last dimension " + in + " but input is " + x);
        }
        long t0 = System.nanoTime();
        int rows = FixedPointLinear.rows(x.shape());
        float[] w = effectiveWeight.get();
        Tensor xq = FixedPointLinear.quantize(x);
        Tensor y = FixedPointLinear.forward(xq, w, bias, in, out);
        weight = w;
        inputQ = training ? xq : null;
        inputShape = x.shape();
        if (Profiler.active()) {
            Profiler.record(name, kind, y, (long) rows * in * out, OpCount.shift(rows, w, out, in, bias != null), t0);
        }
        return y;
    }

    /** The effective weight of the last forward. */
    float[] weight() {
        return weight;
    }

    /** Hands dy and the cached input to {@code gradient}, accumulates the bias gradient and returns dx = dy·W. */
    Tensor backward(Tensor dy, WeightGradient gradient) {
        if (inputQ == null) throw new IllegalStateException(name + ": backward without a training forward");
        long t0 = System.nanoTime();
        int rows = FixedPointLinear.rows(inputShape);
        if (dy.size() != rows * out) {
            throw new ShapeException(name + ": gradient " + dy + " does not match output rows " + rows + " x " + out);
        }
        gradient.accumulate(dy.data(), inputQ.data(), rows);
        Tensor dx = FixedPointLinear.backwardInput(dy, weight, bias, inputShape, in, out);
        inputQ = null;
        if (Profiler.active()) Profiler.record(name, kind + "/bwd", dx, 2L * rows * in * out, t0);
        return dx;
    }
}
