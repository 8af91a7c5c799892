package dev.shiftaddvit.shiftadd;

import dev.shiftaddvit.kernel.FixedPoint;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

/**
 * The float simulation shared by the DeepShift layers: y = Q(x)·Wᵀ + Q(b) with Q the Q16.16
 * quantizer, and the straight-through input and bias gradients (Q is the identity backwards).
 */
final class FixedPointLinear {
    private FixedPointLinear() {
    }

    static int rows(int[] shape) {
        int r = 1;
        for (int i = 0; i < shape.length - 1; i++) r *= shape[i];
        return r;
    }

    static Tensor quantize(Tensor x) {
        Tensor xq = Tensor.zeros(x.shape());
        FixedPoint.quantize(x.data(), 0, xq.data(), 0, x.size());
        return xq;
    }

    /** y = xq·Wᵀ + Q(bias) for xq already quantized, W [out, in]. */
    static Tensor forward(Tensor xq, float[] w, Parameter bias, int in, int out) {
        int rows = rows(xq.shape());
        int[] shape = xq.shape();
        shape[shape.length - 1] = out;
        Tensor y = Tensor.zeros(shape);
        Gemm.nt(rows, out, in, xq.data(), 0, in, w, 0, in, y.data(), 0, out, false);
        if (bias != null) {
            float[] bq = new float[out];
            FixedPoint.quantize(bias.value().data(), 0, bq, 0, out);
            Ops.addBiasRows(y.data(), bq, rows, out);
        }
        return y;
    }

    /** Accumulates the bias gradient and returns dx = dy·W. */
    static Tensor backwardInput(Tensor dy, float[] w, Parameter bias, int[] inputShape, int in, int out) {
        int rows = rows(inputShape);
        if (bias != null) Ops.sumRows(dy.data(), bias.grad().data(), rows, out);
        Tensor dx = Tensor.zeros(inputShape);
        Gemm.nn(rows, in, out, dy.data(), 0, out, w, 0, in, dx.data(), 0, in, false);
        return dx;
    }
}
