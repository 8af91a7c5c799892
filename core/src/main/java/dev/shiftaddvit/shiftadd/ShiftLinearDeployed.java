package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.MatShift;
import dev.shiftaddvit.kernel.MatShiftExponent;
import dev.shiftaddvit.nn.Layer;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.profile.OpCount;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;

/**
 * The deployed Shift expert: a forward-only DeepShift-PS layer on codes frozen from a {@link ShiftLinear},
 * run by the {@link ShiftKernel} chosen when it is built. With {@link MatShiftExponent} (the default) each
 * term Q(x)·sign·2^shift is exact and the sums are the float simulation's, y_sim = Q(x)·Wᵀ + Q(b), up to
 * the order of the float additions. With the fixed-point {@link MatShift} the input goes to Q16.16 once,
 * signed shifted int32 sums start from the raw Q16.16 bias and come back as float (·2^-16); every output
 * then differs from y_sim by at most half a unit, 2^-17, per nonzero weight of its column (centred
 * errors, typically √(K/12)·2^-16 in all), plus the simulation's own float rounding.
 *
 * <p>It has no trainable parameters and no backward: a deployed model is inference-only.
 */
public final class ShiftLinearDeployed implements Layer {
    private final String name;
    private final int in;
    private final int out;
    private final byte[] codes;
    private final int[] biasFixed;
    private final ShiftKernel.Bound kernel;
    /** One row's operations, counted from the codes once, before the first profiled call's timing. */
    private volatile OpCount opsPerRow;

    private ShiftLinearDeployed(String name, int in, int out, byte[] codes, int[] biasFixed) {
        this.name = name;
        this.in = in;
        this.out = out;
        this.codes = codes;
        this.biasFixed = biasFixed;
        this.kernel = ShiftKernel.selected().bind(codes, out, in, biasFixed);
    }

    /** Freezes the current codes and bias of a float Shift layer (named {@code name}, e.g. {@code <moe>.experts.1}). */
    public static ShiftLinearDeployed of(String name, ShiftLinear layer) {
        return new ShiftLinearDeployed(name, layer.in(), layer.out(), layer.codes(), layer.fixedBias());
    }

    public String name() {
        return name;
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    /** The frozen codes [out, in], one per byte ({@link ShiftCodes} layout), a copy. */
    public byte[] codes() {
        return codes.clone();
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (x.rank() < 1 || x.dim(-1) != in) {
            throw new ShapeException(name + ": expected last dimension " + in + " but input is " + x);
        }
        OpCount ops = Profiler.active() ? opsPerRow() : null;
        long t0 = System.nanoTime();
        int rows = x.size() / in;
        int[] shape = x.shape();
        shape[shape.length - 1] = out;
        Tensor y = Tensor.zeros(shape);
        kernel.forward(rows, x.data(), 0, y.data(), 0);
        if (ops != null) Profiler.record(name, "MatShift", y, (long) rows * in * out, ops.times(rows), t0);
        return y;
    }

    /** Rows [0, m) of a call over {@code wholeRows} rows on the calling thread ({@link ShiftKernel.Bound#forwardRows}). */
    public void forwardRows(int wholeRows, int m, float[] x, int xOff, float[] y, int yOff) {
        kernel.forwardRows(wholeRows, m, x, xOff, y, yOff);
    }

    private OpCount opsPerRow() {
        OpCount ops = opsPerRow;
        if (ops == null) {
            ops = OpCount.shift(1, ShiftCodes.toDense(codes), out, in, biasFixed != null);
            opsPerRow = ops;
        }
        return ops;
    }

    @Override
    public Tensor backward(Tensor dy) {
        throw new IllegalStateException(name + ": a deployed Shift expert is inference-only (no backward); train the "
                + "float model and deploy it again");
    }

    @Override
    public List<Parameter> parameters() {
        return List.of();
    }
}
