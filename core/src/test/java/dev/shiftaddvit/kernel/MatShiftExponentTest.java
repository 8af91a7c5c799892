package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MatShiftExponentTest {

    /** Random codes: signs with about a sixth zeros (or none), shifts in [−15, 0] as trained models have. */
    private record Weights(int n, int k, byte[] sign, byte[] shift, float[] bias) {
        static Weights random(SplittableRandom rnd, int n, int k, boolean zeros, boolean bias) {
            byte[] sign = new byte[n * k];
            byte[] shift = new byte[n * k];
            for (int i = 0; i < sign.length; i++) {
                int r = rnd.nextInt(zeros ? 6 : 2);
                sign[i] = (byte) (zeros && r == 0 ? 0 : r % 2 == 0 ? -1 : 1);
                shift[i] = (byte) -rnd.nextInt(16);
            }
            float[] b = null;
            if (bias) {
                b = new float[n];
                for (int j = 0; j < n; j++) b[j] = (float) rnd.nextGaussian();
            }
            return new Weights(n, k, sign, shift, b);
        }

        MatShiftExponent.Packed pack() {
            return MatShiftExponent.pack(n, k, sign, shift, bias);
        }
    }

    /** Activations bounded away from zero, so that no Q(x) is 0. */
    private static float[] nonzero(SplittableRandom rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            float v = (float) (0.01 + Math.abs(rnd.nextGaussian()) * 3);
            x[i] = rnd.nextBoolean() ? v : -v;
        }
        return x;
    }

    @Test
    void equalsTheScalarReferenceBitForBitWhenNoActivationIsZero() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int m : new int[] {1, 3, 4, 5, 9}) {
            for (int n : new int[] {1, 15, 16, 17, 32, 40, 65, 97}) {
                for (int k : new int[] {1, 7, 17, 33, 64}) {
                    Weights w = Weights.random(rnd, n, k, (m + n) % 2 == 0, k != 7);
                    int ldx = k + 3;
                    int ldo = n + 2;
                    float[] x = nonzero(rnd, 2 + m * ldx);
                    float[] out = new float[1 + m * ldo];
                    float[] expected = out.clone();
                    MatShiftExponent.forward(m, w.pack(), x, 2, ldx, out, 1, ldo);
                    MatShiftExponentReference.forward(m, n, k, w.sign, w.shift, w.bias, x, 2, ldx, expected, 1, ldo);
                    for (int i = 0; i < out.length; i++) {
                        assertEquals(expected[i], out[i], 0f, "m=" + m + " n=" + n + " k=" + k + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void zeroActivationsChangeAnOutputByAtMostKStandins() {
        SplittableRandom rnd = new SplittableRandom(2);
        int m = 9, n = 33, k = 48;
        Weights w = Weights.random(rnd, n, k, true, false);
        float[] x = nonzero(rnd, m * k);
        for (int i = 0; i < x.length; i += 3) x[i] = 0f;
        for (int i = 1; i < x.length; i += 7) x[i] = 1e-6f;    // quantizes to 0
        for (int i = 0; i < k; i++) x[4 * k + i] = -0f;        // a row of zeros: only stand-in terms
        float[] out = new float[m * n];
        float[] expected = new float[m * n];
        MatShiftExponent.forward(m, w.pack(), x, 0, k, out, 0, n);
        MatShiftExponentReference.forward(m, n, k, w.sign, w.shift, w.bias, x, 0, k, expected, 0, n);
        for (int i = 0; i < out.length; i++) {
            assertEquals(expected[i], out[i], k * 0x1p-95f, "at " + i);
        }
    }

    @Test
    void agreesWithTheFloatSimulationGemmOfQuantizedInputs() {
        SplittableRandom rnd = new SplittableRandom(3);
        int m = 37, n = 70, k = 192;
        Weights w = Weights.random(rnd, n, k, true, true);
        float[] x = new float[m * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * 2;
        float[] dense = new float[n * k];
        for (int i = 0; i < dense.length; i++) dense[i] = w.sign[i] * Math.scalb(1f, w.shift[i]);
        float[] xq = new float[x.length];
        FixedPointReference.quantize(x, 0, xq, 0, x.length);
        float[] sim = new float[m * n];
        Gemm.nt(m, n, k, xq, 0, k, dense, 0, k, sim, 0, n, false);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) sim[i * n + j] += FixedPoint.quantize(w.bias[j]);
        }
        float[] out = new float[m * n];
        MatShiftExponent.forward(m, w.pack(), x, 0, k, out, 0, n);
        for (int i = 0; i < out.length; i++) assertEquals(sim[i], out[i], 2e-5f * (1 + Math.abs(sim[i])), "at " + i);
    }

    @Test
    void largeInputsThroughTheParallelPathEqualTheScalarReference() {
        SplittableRandom rnd = new SplittableRandom(4);
        int m = 203, n = 96, k = 160;
        Weights w = Weights.random(rnd, n, k, true, true);
        float[] x = nonzero(rnd, m * k);
        float[] out = new float[m * n];
        float[] expected = new float[m * n];
        MatShiftExponent.forward(m, w.pack(), x, 0, k, out, 0, n);
        MatShiftExponentReference.forward(m, n, k, w.sign, w.shift, w.bias, x, 0, k, expected, 0, n);
        for (int i = 0; i < out.length; i++) assertEquals(expected[i], out[i], 0f, "at " + i);
    }

    @Test
    void extremeActivationsAndShiftsStayExact() {
        int n = 16, k = 4;
        byte[] sign = new byte[n * k];
        byte[] shift = new byte[n * k];
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) {
                sign[j * k + p] = (byte) (p % 2 == 0 ? 1 : -1);
                shift[j * k + p] = (byte) -(j * 2 % 32);
            }
        }
        float[] x = {32767f, -32768f, 0x1p-16f, -0x1p-16f};
        float[] out = new float[n];
        float[] expected = new float[n];
        MatShiftExponent.forward(1, MatShiftExponent.pack(n, k, sign, shift, null), x, 0, k, out, 0, n);
        MatShiftExponentReference.forward(1, n, k, sign, shift, null, x, 0, k, expected, 0, n);
        for (int j = 0; j < n; j++) assertEquals(expected[j], out[j], 0f, "column " + j);
    }

    @Test
    void aNanActivationMakesOnlyItsOwnRowNan() {
        SplittableRandom rnd = new SplittableRandom(5);
        int m = 6, n = 20, k = 24;
        Weights w = Weights.random(rnd, n, k, false, true);
        float[] x = nonzero(rnd, m * k);
        x[2 * k + 5] = Float.NaN;
        float[] out = new float[m * n];
        MatShiftExponent.forward(m, w.pack(), x, 0, k, out, 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(i == 2, Float.isNaN(out[i * n + j]), "row " + i + " column " + j);
            }
        }
    }

    @Test
    void packRefusesCodesOutsideTheFormatNamingThePosition() {
        byte[] sign = {1, 2, 1, 1};
        byte[] shift = {0, 0, 0, 0};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatShiftExponent.pack(2, 2, sign, shift, null));
        assertTrue(e.getMessage().contains("sign at [0, 1] is 2"), e.getMessage());
        byte[] ok = {1, 1, 1, 1};
        IllegalArgumentException low = assertThrows(IllegalArgumentException.class,
                () -> MatShiftExponent.pack(2, 2, ok, new byte[] {0, 0, -32, 0}, null));
        assertTrue(low.getMessage().contains("shift at [1, 0] is -32"), low.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> MatShiftExponent.pack(2, 3, ok, shift, null));
        assertTrue(size.getMessage().contains("expected 6 signs and shifts"), size.getMessage());
    }
}
