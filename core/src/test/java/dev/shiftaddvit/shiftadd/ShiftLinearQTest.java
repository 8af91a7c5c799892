package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** DeepShift-Q: power-of-two rounding of a real weight, in-place clamp, identity straight-through gradients. */
class ShiftLinearQTest {
    private static final double TOL = 2e-2;

    @Test
    void roundsWeightsToPowersOfTwoInTheLogDomain() {
        float[] w = {0.7f, 0.71f, -0.3f, 5f, -5f, 1e-6f, -1e-6f, 0f, 0.125f * 1.414f, 0.125f * 1.4143f, 1f, 0x1p-15f};
        float[] e = {0.5f, 1f, -0.25f, 1f, -1f, 0x1p-15f, -0x1p-15f, 0f, 0.125f, 0.25f, 1f, 0x1p-15f};
        ShiftLinearQ layer = new ShiftLinearQ("fc", w.length, 1, false);
        System.arraycopy(w, 0, layer.weight().value().data(), 0, w.length);
        float[] q = layer.quantizedWeight();
        for (int i = 0; i < w.length; i++) assertEquals(e[i], q[i], "weight " + w[i]);
        float[] clamped = layer.weight().value().data();
        assertEquals(1f, clamped[3]);
        assertEquals(-1f, clamped[4]);
        assertEquals(0x1p-15f, clamped[5]);
        assertEquals(-0x1p-15f, clamped[6]);
        assertEquals(0f, clamped[7]);
        assertEquals(0.7f, clamped[0]);
    }

    @Test
    void forwardIsQuantizedInputTimesRoundedWeightPlusQuantizedBias() {
        SplittableRandom rng = new SplittableRandom(1);
        int in = 9, out = 5, rows = 4;
        ShiftLinearQ layer = new ShiftLinearQ("fc", in, out, true, rng);
        for (int i = 0; i < out; i++) layer.bias().value().data()[i] = 0.1f * i - 0.2f;
        Tensor x = GradCheck.randn(rng, 1f, rows, in);
        Tensor y = layer.forward(x, false);
        float[] w = layer.weight().value().data();
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double e = ShiftLinearTest.q(layer.bias().value().data()[o]);
                for (int i = 0; i < in; i++) {
                    double a = Math.min(1.0, Math.max(0x1p-15, Math.abs(w[o * in + i])));
                    double wq = Math.signum(w[o * in + i]) * Math.pow(2, Math.rint(Math.log(a) / Math.log(2)));
                    e += ShiftLinearTest.q(x.data()[r * in + i]) * wq;
                }
                assertEquals(e, y.data()[r * out + o], 1e-5);
            }
        }
        assertEquals(List.of("fc.weight", "fc.bias"), layer.parameters().stream().map(Parameter::name).toList());
        assertTrue(layer.weight().decay());
    }

    @Test
    void inputAndBiasGradientsMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(2);
        ShiftLinearQ layer = new ShiftLinearQ("fc", 11, 6, true, rng);
        GradCheck.check(ShiftLinearTest.only(layer, layer.bias()), GradCheck.randn(rng, 1f, 2, 4, 11), true, 40, TOL,
                3);
    }

    @Test
    void weightGradientIsTheStraightThroughGemmGradient() {
        SplittableRandom rng = new SplittableRandom(3);
        int in = 8, out = 6, rows = 10;
        ShiftLinearQ layer = ShiftLinearQ.fromDense("fc", new Linear("d", in, out, true, rng));
        Tensor x = GradCheck.randn(rng, 1f, rows, in);
        Tensor dy = GradCheck.randn(rng, 1f, rows, out);
        layer.weight().zeroGrad();
        layer.forward(x, true);
        layer.backward(dy);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double g = 0;
                for (int r = 0; r < rows; r++) g += dy.data()[r * out + o] * ShiftLinearTest.q(x.data()[r * in + i]);
                assertEquals(g, layer.weight().grad().data()[o * in + i], 1e-4);
            }
        }
    }
}
