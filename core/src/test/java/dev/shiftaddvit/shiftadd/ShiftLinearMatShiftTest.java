package dev.shiftaddvit.shiftadd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.kernel.FixedPoint;
import dev.shiftaddvit.kernel.MatShift;
import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.tensor.Tensor;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The integer deployment kernel against the float simulation with the same codes: every term of
 * MatShift rounds x·2^shift to the nearest 2^-16, so |int − float| ≤ (nonzero weights in the column)·2^-17
 * before float rounding (flooring, the old rule, breaks this bound on about half the outputs), and the
 * predicted class (argmax) agrees wherever the float top-2 gap exceeds twice that bound.
 */
class ShiftLinearMatShiftTest {
    private static void compare(ShiftLinear layer, Tensor x, boolean argmax) {
        int in = layer.in(), out = layer.out(), rows = x.size() / in;
        Tensor y = layer.forward(x, false);
        float[] w = layer.effectiveWeight();
        assertArrayEquals(w, ShiftCodes.toDense(layer.codes()), "codes decode to the simulated weight");
        MatShift.Packed packed = layer.toMatShift();
        float[] yi = new float[rows * out];
        MatShift.forward(rows, packed, x.data(), 0, in, yi, 0, out);
        int nearTies = 0;
        int mismatches = 0;
        for (int r = 0; r < rows; r++) {
            double worst = 0;
            for (int o = 0; o < out; o++) {
                int nnz = 0;
                double sumAbs = 0;
                for (int i = 0; i < in; i++) {
                    if (w[o * in + i] != 0f) nnz++;
                    sumAbs += Math.abs(FixedPoint.quantize(x.data()[r * in + i]) * w[o * in + i]);
                }
                double diff = Math.abs(yi[r * out + o] - y.data()[r * out + o]);
                double bound = nnz * 0x1p-17 + 1e-6 * sumAbs + 1e-6 * Math.abs(y.data()[r * out + o]);
                assertTrue(diff <= bound, "row " + r + " out " + o + ": |" + yi[r * out + o] + " - "
                        + y.data()[r * out + o] + "| = " + diff + " > " + bound);
                worst = Math.max(worst, bound);
            }
            if (argmax) {
                int a = argmax(y.data(), r * out, out);
                int b = argmax(yi, r * out, out);
                if (a != b) {
                    mismatches++;
                    float gap = y.data()[r * out + a] - y.data()[r * out + b];
                    assertTrue(gap <= 2 * worst, "row " + r + ": argmax " + b + " vs " + a + " with gap " + gap);
                    nearTies++;
                }
            }
        }
        assertTrue(mismatches <= Math.max(1, rows / 50), mismatches + " argmax mismatches (near ties " + nearTies + ")");
    }

    private static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) if (a[off + j] > a[off + best]) best = j;
        return best;
    }

    @Test
    void matShiftEqualsTheFloatSimulationWithinTheRoundingBound() {
        SplittableRandom rng = new SplittableRandom(1);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 33, 10}, {64, 96, 40}, {196, 64, 130}, {49, 300, 20}};
        for (int[] s : shapes) {
            ShiftLinear layer = new ShiftLinear("fc", s[1], s[2], s[0] % 2 == 1, rng);
            compare(layer, GradCheck.randn(rng, 1f, s[0], s[1]), false);
        }
    }

    @Test
    void convertedDenseLayerKeepsItsPredictions() {
        SplittableRandom rng = new SplittableRandom(2);
        int rows = 500, in = 192, classes = 10;
        Linear dense = new Linear("head", in, classes, true, rng);
        for (int i = 0; i < classes; i++) dense.bias().value().data()[i] = (float) (0.01 * (i - 5));
        ShiftLinear layer = ShiftLinear.fromDense("head", dense);
        compare(layer, GradCheck.randn(rng, 2f, rows, in), true);
        // A logit layer with genuine ties removed: exact argmax agreement on random data.
        ShiftLinear random = new ShiftLinear("cls", 64, 10, true, rng);
        compare(random, GradCheck.randn(rng, 1f, 300, 64), true);
    }

    @Test
    void integerBiasIsTheQuantizedBias() {
        ShiftLinear layer = new ShiftLinear("fc", 2, 3, true);
        float[] b = layer.bias().value().data();
        b[0] = 0.1f;
        b[1] = -0.1f;
        b[2] = 1e6f;
        assertArrayEquals(new int[]{6553, -6554, FixedPoint.RAW_MAX}, layer.fixedBias());
        float[] out = new float[3];
        MatShift.forward(1, layer.toMatShift(), new float[]{0.5f, 0.5f}, 0, 2, out, 0, 3);
        assertEquals(FixedPoint.quantize(0.1f), out[0]);
        assertEquals(FixedPoint.quantize(-0.1f), out[1]);
        assertEquals(32767f, out[2]);
    }
}
