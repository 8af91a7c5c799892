package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.dot;
import static dev.shiftaddvit.kernel.KernelTestSupport.numericGrad;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static dev.shiftaddvit.kernel.KernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class SoftmaxTest {
    private static final int[] COLS = {1, 2, 3, 7, 8, 13, 16, 17, 33, 49, 65, 197};

    @Test
    void vectorExpIsWithinTwoUlpOfMathExpAndHandlesExtremes() {
        int lanes = Softmax.F.length();
        float[] x = new float[lanes];
        float[] y = new float[lanes];
        double worst = 0;
        for (int i = 0; i < 200_000; i++) {
            float v = -87.3f + 176.0f * i / 200_000;
            java.util.Arrays.fill(x, v);
            Softmax.exp(FloatVector.fromArray(Softmax.F, x, 0)).intoArray(y, 0);
            double e = Math.exp(v);
            worst = Math.max(worst, Math.abs(y[0] - e) / e);
        }
        assertTrue(worst < 2.5e-7, "worst relative exp error " + worst);

        float[] special = new float[Math.max(lanes, 8)];
        float[] vals = {Float.NEGATIVE_INFINITY, -200f, -87.4f, 0f, 89f, Float.POSITIVE_INFINITY, Float.NaN, 1f};
        float[] out = new float[special.length];
        for (int i = 0; i < vals.length; i += lanes) {
            java.util.Arrays.fill(special, 0f);
            System.arraycopy(vals, i, special, 0, Math.min(lanes, vals.length - i));
            Softmax.exp(FloatVector.fromArray(Softmax.F, special, 0)).intoArray(out, 0);
            for (int j = 0; j < Math.min(lanes, vals.length - i); j++) {
                float v = vals[i + j];
                if (Float.isNaN(v)) assertTrue(Float.isNaN(out[j]), "exp(NaN)");
                else if (v <= -87.4f) assertEquals(0f, out[j], 0f, "exp(" + v + ")");
                else if (v >= 89f) assertEquals(Float.POSITIVE_INFINITY, out[j], "exp(" + v + ")");
                else assertEquals((float) Math.exp(v), out[j], 2e-7f * (float) Math.exp(v), "exp(" + v + ")");
            }
        }
    }

    @Test
    void nonPositiveExpHasTheBitsOfTheFullExpWhereSoftmaxUsesIt() {
        int lanes = Softmax.F.length();
        float[] x = new float[lanes];
        float[] full = new float[lanes];
        float[] cheap = new float[lanes];
        for (int i = 0; i < 100_000; i++) {
            for (int l = 0; l < lanes; l++) x[l] = -100f + 100.3f * (i * lanes + l) / (100_000f * lanes);
            Softmax.exp(FloatVector.fromArray(Softmax.F, x, 0)).intoArray(full, 0);
            Softmax.expNonPositive(FloatVector.fromArray(Softmax.F, x, 0)).intoArray(cheap, 0);
            for (int l = 0; l < lanes; l++) {
                assertEquals(Float.floatToRawIntBits(full[l]), Float.floatToRawIntBits(cheap[l]), "exp(" + x[l] + ")");
            }
        }
        java.util.Arrays.fill(x, Float.NEGATIVE_INFINITY);
        x[lanes - 1] = Float.NaN;
        Softmax.expNonPositive(FloatVector.fromArray(Softmax.F, x, 0)).intoArray(cheap, 0);
        assertEquals(0f, cheap[0], 0f, "exp(-inf)");
        assertTrue(Float.isNaN(cheap[lanes - 1]), "exp(NaN)");
    }

    @Test
    void forwardMatchesScalarTwinWithOffsetsAndAliasing() {
        SplittableRandom rnd = new SplittableRandom(21);
        for (int cols : COLS) {
            for (int rows : new int[] {1, 2, 5}) {
                int off = 3;
                int yOff = 7;
                float[] x = randn(rnd, off + rows * cols + 2, 4f, 0f);
                float[] y = new float[yOff + rows * cols + 1];
                float[] ye = new float[yOff + rows * cols + 1];
                Softmax.forwardRows(x, off, y, yOff, rows, cols);
                SoftmaxReference.forwardRows(x, off, ye, yOff, rows, cols);
                String at = "rows=" + rows + " cols=" + cols;
                assertClose(ye, y, 1e-7, 1e-6, at);
                assertEquals(0f, y[yOff - 1], 0f, at + " wrote before its range");
                assertEquals(0f, y[yOff + rows * cols], 0f, at + " wrote after its range");
                float[] alias = x.clone();
                Softmax.forwardRows(alias, off, alias, off, rows, cols);
                for (int i = 0; i < rows * cols; i++) {
                    assertEquals(y[yOff + i], alias[off + i], 0f, at + " in place");
                }
                for (int r = 0; r < rows; r++) {
                    double s = 0;
                    for (int c = 0; c < cols; c++) s += y[yOff + r * cols + c];
                    assertEquals(1.0, s, 1e-5, at + " row sum");
                }
            }
        }
    }

    @Test
    void scaledInPlaceForwardEqualsScalarSoftmaxOfScaledInputsLeavingNeighboursAlone() {
        SplittableRandom rnd = new SplittableRandom(22);
        float scale = 0.125f;
        for (int cols : COLS) {
            for (int rows : new int[] {1, 3}) {
                int off = 5;
                float[] x = randn(rnd, off + rows * cols + 3, 20f, 0f);
                float[] scaled = new float[x.length];
                for (int i = 0; i < x.length; i++) scaled[i] = x[i] * scale;
                float[] expected = new float[x.length];
                SoftmaxReference.forwardRows(scaled, off, expected, off, rows, cols);
                float[] y = x.clone();
                Softmax.forwardRowsScaled(y, off, rows, cols, scale);
                String at = "rows=" + rows + " cols=" + cols;
                for (int i = 0; i < off; i++) assertEquals(x[i], y[i], 0f, at + " wrote before its range");
                for (int i = off + rows * cols; i < x.length; i++) {
                    assertEquals(x[i], y[i], 0f, at + " wrote after its range");
                }
                System.arraycopy(y, 0, expected, 0, off);
                System.arraycopy(y, off + rows * cols, expected, off + rows * cols, x.length - off - rows * cols);
                assertClose(expected, y, 1e-7, 1e-5, at);
            }
        }
    }

    @Test
    void scaledExpMatchesMathExpWithinTwoUlpAtAnyLengthAndOffset() {
        SplittableRandom rnd = new SplittableRandom(23);
        for (int n : COLS) {
            float[] x = randn(rnd, n + 4, 30f, 0f);
            for (int i = 0; i < x.length; i++) x[i] = Math.abs(x[i]);
            float[] y = new float[n + 6];
            float[] expected = new float[n + 6];
            Softmax.expScaled(x, 3, -0.37f, y, 2, n);
            SoftmaxReference.expScaled(x, 3, -0.37f, expected, 2, n);
            for (int i = 0; i < y.length; i++) {
                assertEquals(expected[i], y[i], 2.5e-7f * expected[i], "n=" + n + " at " + i);
            }
        }
    }

    @Test
    void forwardIsStableForHugeAndTinyLogits() {
        int cols = 19;
        float[] x = new float[2 * cols];
        for (int c = 0; c < cols; c++) {
            x[c] = 1e4f + c;                 // would overflow exp without the max shift
            x[cols + c] = -1e4f - 300f * c;  // all but the first underflow
        }
        float[] y = new float[2 * cols];
        Softmax.forwardRows(x, 0, y, 0, 2, cols);
        float[] ye = new float[2 * cols];
        SoftmaxReference.forwardRows(x, 0, ye, 0, 2, cols);
        assertClose(ye, y, 1e-7, 1e-6, "extreme logits");
        assertEquals(1f, y[cols], 0f);
        for (float v : y) assertTrue(Float.isFinite(v));
    }

    @Test
    void backwardMatchesScalarTwinWithOffsetsAndAliasing() {
        SplittableRandom rnd = new SplittableRandom(22);
        for (int cols : COLS) {
            for (int rows : new int[] {1, 3}) {
                float[] x = randn(rnd, rows * cols, 2f, 0f);
                float[] y = new float[5 + rows * cols];
                Softmax.forwardRows(x, 0, y, 5, rows, cols);
                float[] dy = randn(rnd, 2 + rows * cols, 1f, 0f);
                float[] dx = new float[1 + rows * cols];
                float[] dxe = new float[1 + rows * cols];
                Softmax.backwardRows(y, 5, dy, 2, dx, 1, rows, cols);
                SoftmaxReference.backwardRows(y, 5, dy, 2, dxe, 1, rows, cols);
                String at = "rows=" + rows + " cols=" + cols;
                assertClose(dxe, dx, 1e-6, 1e-5, at);
                Softmax.backwardRows(y, 5, dy, 2, dy, 2, rows, cols);
                for (int i = 0; i < rows * cols; i++) assertEquals(dx[1 + i], dy[2 + i], 0f, at + " dx aliasing dy");
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesInDouble() {
        SplittableRandom rnd = new SplittableRandom(23);
        for (int cols : new int[] {1, 3, 8, 17}) {
            int rows = 2;
            float[] x = randn(rnd, rows * cols, 2f, 0f);
            float[] w = randn(rnd, rows * cols, 1f, 0f);
            float[] y = new float[rows * cols];
            Softmax.forwardRows(x, 0, y, 0, rows, cols);
            float[] dx = new float[rows * cols];
            Softmax.backwardRows(y, 0, w, 0, dx, 0, rows, cols);
            double[] xd = toDouble(x);
            double[] wd = toDouble(w);
            double[] fd = numericGrad(xd, () -> dot(wd, softmaxDouble(xd, rows, cols)));
            assertClose(fd, dx, 2e-6, 1e-4, "cols=" + cols);
        }
    }

    @Test
    void largeAttentionShapedInputsThroughParallelPathMatchScalarTwin() {
        SplittableRandom rnd = new SplittableRandom(24);
        int rows = 4 * 197;
        int cols = 197;
        float[] x = randn(rnd, rows * cols, 3f, 0f);
        float[] y = new float[rows * cols];
        float[] ye = new float[rows * cols];
        Softmax.forwardRows(x, 0, y, 0, rows, cols);
        SoftmaxReference.forwardRows(x, 0, ye, 0, rows, cols);
        assertClose(ye, y, 1e-7, 1e-6, "forward");
        float[] dy = randn(rnd, rows * cols, 1f, 0f);
        float[] dx = new float[rows * cols];
        float[] dxe = new float[rows * cols];
        Softmax.backwardRows(y, 0, dy, 0, dx, 0, rows, cols);
        SoftmaxReference.backwardRows(y, 0, dy, 0, dxe, 0, rows, cols);
        assertClose(dxe, dx, 1e-6, 1e-5, "backward");
    }

    static double[] softmaxDouble(double[] x, int rows, int cols) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
            double s = 0;
            for (int c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - max);
            for (int c = 0; c < cols; c++) y[r * cols + c] = Math.exp(x[r * cols + c] - max) / s;
        }
        return y;
    }
}
