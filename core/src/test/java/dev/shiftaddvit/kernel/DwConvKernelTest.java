package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.dot;
import static dev.shiftaddvit.kernel.KernelTestSupport.numericGrad;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static dev.shiftaddvit.kernel.KernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DwConvKernelTest {
    private static final int[] CHANNELS = {1, 3, 7, 8, 13, 17, 33, 65};
    /** h, w, kh, kw. */
    private static final int[][] GEOMETRY = {
            {1, 1, 3, 3}, {2, 3, 3, 3}, {5, 4, 3, 3}, {7, 6, 5, 3}, {9, 1, 9, 1}, {12, 1, 9, 1},
            {1, 10, 1, 9}, {4, 4, 1, 1}, {3, 5, 7, 7}, {3, 13, 3, 3}, {4, 11, 3, 5},
    };

    @Test
    void forwardMatchesScalarTwinAcrossChannelsAndKernels() {
        SplittableRandom rnd = new SplittableRandom(61);
        for (int[] g : GEOMETRY) {
            for (int c : CHANNELS) {
                int b = 2;
                int h = g[0], w = g[1], kh = g[2], kw = g[3];
                float[] x = randn(rnd, b * h * w * c, 1f, 0f);
                float[] wt = randn(rnd, c * kh * kw, 0.5f, 0f);
                float[] bias = c % 2 == 1 ? randn(rnd, c, 1f, 0f) : null;
                float[] y = new float[x.length];
                Arrays.fill(y, Float.NaN);
                float[] ye = new float[x.length];
                DwConvKernel.forward(x, b, h, w, c, wt, bias, kh, kw, y);
                DwConvKernelReference.forward(x, b, h, w, c, wt, bias, kh, kw, ye);
                assertClose(ye, y, 1e-5, 1e-5, Arrays.toString(g) + " c=" + c);
            }
        }
    }

    @Test
    void backwardMatchesScalarTwinAcrossChannelsAndKernels() {
        SplittableRandom rnd = new SplittableRandom(62);
        for (int[] g : GEOMETRY) {
            for (int c : CHANNELS) {
                int b = 2;
                int h = g[0], w = g[1], kh = g[2], kw = g[3];
                float[] x = randn(rnd, b * h * w * c, 1f, 0f);
                float[] wt = randn(rnd, c * kh * kw, 0.5f, 0f);
                float[] dy = randn(rnd, x.length, 1f, 0f);
                float[] dw0 = randn(rnd, wt.length, 1f, 0f);
                float[] db0 = randn(rnd, c, 1f, 0f);
                float[] dx = new float[x.length];
                Arrays.fill(dx, Float.NaN);
                float[] dw = dw0.clone();
                float[] db = db0.clone();
                DwConvKernel.backward(dy, x, b, h, w, c, wt, kh, kw, dx, dw, db);
                float[] dxe = new float[x.length];
                float[] dwe = dw0.clone();
                float[] dbe = db0.clone();
                DwConvKernelReference.backward(dy, x, b, h, w, c, wt, kh, kw, dxe, dwe, dbe);
                String at = Arrays.toString(g) + " c=" + c;
                assertClose(dxe, dx, 1e-5, 1e-5, at + " dx");
                assertClose(dwe, dw, 1e-5, 1e-5, at + " dweight");
                assertClose(dbe, db, 1e-5, 1e-5, at + " dbias");
                float[] dw2 = dw0.clone();
                DwConvKernel.backward(dy, x, b, h, w, c, wt, kh, kw, null, dw2, null);
                assertClose(dwe, dw2, 1e-5, 1e-5, at + " dweight without dx/dbias");
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesInDouble() {
        SplittableRandom rnd = new SplittableRandom(63);
        for (int[] g : new int[][] {{4, 3, 3, 3}, {5, 1, 9, 1}, {2, 2, 3, 3}}) {
            int b = 2;
            int c = 9;
            int h = g[0], w = g[1], kh = g[2], kw = g[3];
            float[] x = randn(rnd, b * h * w * c, 1f, 0f);
            float[] wt = randn(rnd, c * kh * kw, 0.5f, 0f);
            float[] bias = randn(rnd, c, 1f, 0f);
            float[] gy = randn(rnd, x.length, 1f, 0f);
            float[] dx = new float[x.length];
            float[] dw = new float[wt.length];
            float[] db = new float[c];
            DwConvKernel.backward(gy, x, b, h, w, c, wt, kh, kw, dx, dw, db);
            double[] xd = toDouble(x);
            double[] wd = toDouble(wt);
            double[] bd = toDouble(bias);
            double[] gd = toDouble(gy);
            java.util.function.DoubleSupplier loss = () -> dot(gd, dwDouble(xd, wd, bd, b, h, w, c, kh, kw));
            String at = Arrays.toString(g);
            assertClose(numericGrad(xd, loss), dx, 1e-5, 1e-5, at + " dx");
            assertClose(numericGrad(wd, loss), dw, 1e-5, 1e-5, at + " dweight");
            assertClose(numericGrad(bd, loss), db, 1e-5, 1e-5, at + " dbias");
        }
    }

    @Test
    void largeInputsThroughParallelPathMatchScalarTwinAndAreDeterministic() {
        SplittableRandom rnd = new SplittableRandom(64);
        int b = 8, h = 28, w = 28, c = 64, kh = 3, kw = 3;
        float[] x = randn(rnd, b * h * w * c, 1f, 0f);
        float[] wt = randn(rnd, c * kh * kw, 0.5f, 0f);
        float[] bias = randn(rnd, c, 1f, 0f);
        float[] y = new float[x.length];
        float[] ye = new float[x.length];
        DwConvKernel.forward(x, b, h, w, c, wt, bias, kh, kw, y);
        DwConvKernelReference.forward(x, b, h, w, c, wt, bias, kh, kw, ye);
        assertClose(ye, y, 1e-5, 1e-5, "forward");
        float[] dy = randn(rnd, x.length, 1f, 0f);
        float[] dx = new float[x.length];
        float[] dw = new float[wt.length];
        float[] db = new float[c];
        DwConvKernel.backward(dy, x, b, h, w, c, wt, kh, kw, dx, dw, db);
        float[] dxe = new float[x.length];
        float[] dwe = new float[wt.length];
        float[] dbe = new float[c];
        DwConvKernelReference.backward(dy, x, b, h, w, c, wt, kh, kw, dxe, dwe, dbe);
        assertClose(dxe, dx, 1e-5, 1e-5, "dx");
        assertClose(dwe, dw, 1e-3, 1e-4, "dweight");
        assertClose(dbe, db, 1e-3, 1e-4, "dbias");
        float[] dw2 = new float[wt.length];
        float[] db2 = new float[c];
        DwConvKernel.backward(dy, x, b, h, w, c, wt, kh, kw, null, dw2, db2);
        assertArrayEquals(dw, dw2, "dweight must be bit-identical across runs");
        assertArrayEquals(db, db2, "dbias must be bit-identical across runs");
    }

    @Test
    void rejectsEvenKernels() {
        float[] x = new float[16];
        assertThrows(IllegalArgumentException.class,
                () -> DwConvKernel.forward(x, 1, 4, 4, 1, new float[4], null, 2, 2, new float[16]));
    }

    static double[] dwDouble(double[] x, double[] wt, double[] bias, int b, int h, int w, int c, int kh, int kw) {
        double[] y = new double[x.length];
        for (int n = 0; n < b; n++)
            for (int oy = 0; oy < h; oy++)
                for (int ox = 0; ox < w; ox++)
                    for (int ch = 0; ch < c; ch++) {
                        double s = bias[ch];
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy + ky - kh / 2;
                                int ix = ox + kx - kw / 2;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                s += wt[(ch * kh + ky) * kw + kx] * x[((n * h + iy) * w + ix) * c + ch];
                            }
                        y[((n * h + oy) * w + ox) * c + ch] = s;
                    }
        return y;
    }
}
