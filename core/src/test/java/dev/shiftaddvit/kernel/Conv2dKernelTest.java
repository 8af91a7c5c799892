package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.dot;
import static dev.shiftaddvit.kernel.KernelTestSupport.numericGrad;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static dev.shiftaddvit.kernel.KernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Conv2dKernelTest {
    /** batch, h, w, inC, outC, kh, kw, stride, pad. */
    private static final int[][] CONFIGS = {
            {1, 1, 1, 1, 1, 1, 1, 1, 0},
            {2, 5, 7, 3, 4, 3, 3, 1, 1},     // same-size 3x3
            {2, 8, 8, 3, 5, 4, 4, 4, 0},     // patchify (kernel == stride)
            {1, 9, 11, 2, 3, 7, 7, 4, 3},    // PVTv2 overlapping patch embed
            {2, 6, 5, 5, 6, 3, 3, 2, 1},     // PVTv2 stage stem 3x3 s2
            {1, 4, 4, 1, 2, 5, 5, 1, 2},     // kernel as large as the padded image
            {3, 7, 3, 13, 17, 2, 3, 2, 0},   // rectangular kernel, odd channels
            {1, 6, 6, 8, 9, 1, 1, 1, 0},     // 1x1
            {2, 10, 9, 4, 3, 3, 2, 3, 1},    // stride larger than kernel height... and width
            {1, 6, 6, 5, 40, 3, 3, 2, 1},    // fewer patches (9) than output channels: channel-order columns
    };

    @Test
    void outSizeFollowsPytorchAndRejectsImpossibleGeometry() {
        assertEquals(56, Conv2dKernel.outSize(224, 7, 4, 3));
        assertEquals(7, Conv2dKernel.outSize(28, 4, 4, 0));
        assertEquals(14, Conv2dKernel.outSize(28, 3, 2, 1));
        assertEquals(1, Conv2dKernel.outSize(1, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Conv2dKernel.outSize(2, 5, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Conv2dKernel.outSize(8, 3, 0, 1));
    }

    @Test
    void forwardMatchesDirectScalarConvolution() {
        SplittableRandom rnd = new SplittableRandom(51);
        for (int[] cfg : CONFIGS) {
            for (boolean withBias : new boolean[] {true, false}) {
                Shape s = new Shape(cfg);
                float[] x = randn(rnd, s.b * s.h * s.w * s.inC, 1f, 0f);
                float[] wt = randn(rnd, s.outC * s.k(), 0.5f, 0f);
                float[] bias = withBias ? randn(rnd, s.outC, 1f, 0f) : null;
                float[] cols = new float[s.m() * s.k()];
                float[] y = new float[s.m() * s.outC];
                Arrays.fill(y, Float.NaN);
                float[] ye = new float[s.m() * s.outC];
                Conv2dKernel.forward(x, s.b, s.h, s.w, s.inC, wt, bias, s.outC, s.kh, s.kw, s.stride, s.pad, cols, y);
                Conv2dKernelReference.forward(x, s.b, s.h, s.w, s.inC, wt, bias, s.outC, s.kh, s.kw, s.stride, s.pad,
                        ye);
                assertClose(ye, y, 1e-5, 1e-5, s + " bias=" + withBias);
            }
        }
    }

    @Test
    void backwardMatchesDirectScalarConvolution() {
        SplittableRandom rnd = new SplittableRandom(52);
        for (int[] cfg : CONFIGS) {
            Shape s = new Shape(cfg);
            float[] x = randn(rnd, s.b * s.h * s.w * s.inC, 1f, 0f);
            float[] wt = randn(rnd, s.outC * s.k(), 0.5f, 0f);
            float[] cols = new float[s.m() * s.k()];
            float[] y = new float[s.m() * s.outC];
            Conv2dKernel.forward(x, s.b, s.h, s.w, s.inC, wt, null, s.outC, s.kh, s.kw, s.stride, s.pad, cols, y);
            float[] dy = randn(rnd, s.m() * s.outC, 1f, 0f);
            float[] dw0 = randn(rnd, wt.length, 1f, 0f);
            float[] db0 = randn(rnd, s.outC, 1f, 0f);

            float[] dx = new float[x.length];
            Arrays.fill(dx, Float.NaN);   // must be overwritten
            float[] dw = dw0.clone();
            float[] db = db0.clone();
            Conv2dKernel.backward(dy, cols, s.b, s.h, s.w, s.inC, wt, s.outC, s.kh, s.kw, s.stride, s.pad,
                    dx, dw, db, new float[cols.length]);
            float[] dxe = new float[x.length];
            float[] dwe = dw0.clone();
            float[] dbe = db0.clone();
            Conv2dKernelReference.backward(dy, x, s.b, s.h, s.w, s.inC, wt, s.outC, s.kh, s.kw, s.stride, s.pad,
                    dxe, dwe, dbe);
            assertClose(dxe, dx, 1e-5, 1e-5, s + " dx");
            assertClose(dwe, dw, 1e-5, 1e-5, s + " dweight");
            assertClose(dbe, db, 1e-5, 1e-5, s + " dbias");

            float[] dw2 = dw0.clone();
            Conv2dKernel.backward(dy, cols, s.b, s.h, s.w, s.inC, wt, s.outC, s.kh, s.kw, s.stride, s.pad,
                    null, dw2, null, null);
            assertClose(dwe, dw2, 1e-5, 1e-5, s + " dweight without input grad or bias");
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesInDouble() {
        SplittableRandom rnd = new SplittableRandom(53);
        for (int[] cfg : new int[][] {{1, 5, 4, 2, 3, 3, 3, 2, 1}, {2, 4, 4, 3, 2, 2, 2, 2, 0}, {1, 3, 5, 1, 2, 3, 1, 1, 1}}) {
            Shape s = new Shape(cfg);
            float[] x = randn(rnd, s.b * s.h * s.w * s.inC, 1f, 0f);
            float[] wt = randn(rnd, s.outC * s.k(), 0.5f, 0f);
            float[] bias = randn(rnd, s.outC, 1f, 0f);
            float[] g = randn(rnd, s.m() * s.outC, 1f, 0f);   // loss = Σ g ⊙ y
            float[] cols = new float[s.m() * s.k()];
            Conv2dKernel.forward(x, s.b, s.h, s.w, s.inC, wt, bias, s.outC, s.kh, s.kw, s.stride, s.pad, cols,
                    new float[s.m() * s.outC]);
            float[] dx = new float[x.length];
            float[] dw = new float[wt.length];
            float[] db = new float[s.outC];
            Conv2dKernel.backward(g, cols, s.b, s.h, s.w, s.inC, wt, s.outC, s.kh, s.kw, s.stride, s.pad,
                    dx, dw, db, new float[cols.length]);
            double[] xd = toDouble(x);
            double[] wd = toDouble(wt);
            double[] bd = toDouble(bias);
            double[] gd = toDouble(g);
            java.util.function.DoubleSupplier loss = () -> dot(gd, convDouble(xd, wd, bd, s));
            assertClose(numericGrad(xd, loss), dx, 1e-5, 1e-5, s + " dx");
            assertClose(numericGrad(wd, loss), dw, 1e-5, 1e-5, s + " dweight");
            assertClose(numericGrad(bd, loss), db, 1e-5, 1e-5, s + " dbias");
        }
    }

    @Test
    void largeInputsThroughParallelPathMatchScalarTwin() {
        SplittableRandom rnd = new SplittableRandom(54);
        Shape s = new Shape(new int[] {4, 28, 28, 16, 24, 3, 3, 1, 1});
        float[] x = randn(rnd, s.b * s.h * s.w * s.inC, 1f, 0f);
        float[] wt = randn(rnd, s.outC * s.k(), 0.2f, 0f);
        float[] bias = randn(rnd, s.outC, 1f, 0f);
        float[] cols = new float[s.m() * s.k()];
        float[] y = new float[s.m() * s.outC];
        float[] ye = new float[s.m() * s.outC];
        Conv2dKernel.forward(x, s.b, s.h, s.w, s.inC, wt, bias, s.outC, s.kh, s.kw, s.stride, s.pad, cols, y);
        Conv2dKernelReference.forward(x, s.b, s.h, s.w, s.inC, wt, bias, s.outC, s.kh, s.kw, s.stride, s.pad, ye);
        assertClose(ye, y, 1e-5, 1e-5, "forward");
        float[] dy = randn(rnd, y.length, 1f, 0f);
        float[] dx = new float[x.length];
        float[] dw = new float[wt.length];
        float[] db = new float[s.outC];
        Conv2dKernel.backward(dy, cols, s.b, s.h, s.w, s.inC, wt, s.outC, s.kh, s.kw, s.stride, s.pad,
                dx, dw, db, new float[cols.length]);
        float[] dxe = new float[x.length];
        float[] dwe = new float[wt.length];
        float[] dbe = new float[s.outC];
        Conv2dKernelReference.backward(dy, x, s.b, s.h, s.w, s.inC, wt, s.outC, s.kh, s.kw, s.stride, s.pad,
                dxe, dwe, dbe);
        assertClose(dxe, dx, 1e-5, 1e-5, "dx");
        assertClose(dwe, dw, 1e-3, 1e-4, "dweight");
        assertClose(dbe, db, 1e-3, 1e-4, "dbias");
    }

    static double[] convDouble(double[] x, double[] w, double[] bias, Shape s) {
        double[] y = new double[s.m() * s.outC];
        for (int b = 0; b < s.b; b++)
            for (int oy = 0; oy < s.ho(); oy++)
                for (int ox = 0; ox < s.wo(); ox++)
                    for (int o = 0; o < s.outC; o++) {
                        double acc = bias[o];
                        for (int c = 0; c < s.inC; c++)
                            for (int ky = 0; ky < s.kh; ky++)
                                for (int kx = 0; kx < s.kw; kx++) {
                                    int iy = oy * s.stride - s.pad + ky;
                                    int ix = ox * s.stride - s.pad + kx;
                                    if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                                    acc += w[((o * s.inC + c) * s.kh + ky) * s.kw + kx]
                                            * x[((b * s.h + iy) * s.w + ix) * s.inC + c];
                                }
                        y[((b * s.ho() + oy) * s.wo() + ox) * s.outC + o] = acc;
                    }
        return y;
    }

    record Shape(int b, int h, int w, int inC, int outC, int kh, int kw, int stride, int pad) {
        Shape(int[] c) {
            this(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
        }

        int ho() {
            return Conv2dKernel.outSize(h, kh, stride, pad);
        }

        int wo() {
            return Conv2dKernel.outSize(w, kw, stride, pad);
        }

        int m() {
            return b * ho() * wo();
        }

        int k() {
            return inC * kh * kw;
        }
    }
}
