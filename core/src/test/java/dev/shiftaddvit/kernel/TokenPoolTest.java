package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.dot;
import static dev.shiftaddvit.kernel.KernelTestSupport.numericGrad;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static dev.shiftaddvit.kernel.KernelTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenPoolTest {
    private static final int[] DIMS = {1, 3, 7, 8, 13, 17, 33, 65, 192};

    @Test
    void meanForwardAndBackwardMatchScalarTwins() {
        SplittableRandom rnd = new SplittableRandom(71);
        for (int dim : DIMS) {
            for (int tokens : new int[] {1, 2, 5, 49}) {
                for (int batch : new int[] {1, 3}) {
                    float[] x = randn(rnd, batch * tokens * dim, 1f, 0.5f);
                    float[] y = new float[batch * dim];
                    float[] ye = new float[batch * dim];
                    TokenPool.meanForward(x, batch, tokens, dim, y);
                    TokenPoolReference.meanForward(x, batch, tokens, dim, ye);
                    String at = "batch=" + batch + " tokens=" + tokens + " dim=" + dim;
                    assertArrayEquals(ye, y, at + " forward");

                    float[] dy = randn(rnd, batch * dim, 1f, 0f);
                    float[] dx = new float[x.length];
                    Arrays.fill(dx, Float.NaN);
                    float[] dxe = new float[x.length];
                    TokenPool.meanBackward(dy, batch, tokens, dim, dx);
                    TokenPoolReference.meanBackward(dy, batch, tokens, dim, dxe);
                    assertArrayEquals(dxe, dx, at + " backward");
                }
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesInDouble() {
        SplittableRandom rnd = new SplittableRandom(72);
        int batch = 2, tokens = 5, dim = 11;
        float[] x = randn(rnd, batch * tokens * dim, 1f, 0f);
        float[] g = randn(rnd, batch * dim, 1f, 0f);
        float[] dx = new float[x.length];
        TokenPool.meanBackward(g, batch, tokens, dim, dx);
        double[] xd = toDouble(x);
        double[] gd = toDouble(g);
        double[] fd = numericGrad(xd, () -> {
            double[] y = new double[batch * dim];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < tokens; t++)
                    for (int d = 0; d < dim; d++) y[b * dim + d] += xd[(b * tokens + t) * dim + d] / tokens;
            return dot(gd, y);
        });
        assertClose(fd, dx, 1e-7, 1e-6, "dx");
    }

    @Test
    void largeInputsThroughParallelPathMatchScalarTwins() {
        SplittableRandom rnd = new SplittableRandom(73);
        int batch = 64, tokens = 197, dim = 384;
        float[] x = randn(rnd, batch * tokens * dim, 1f, 0f);
        float[] y = new float[batch * dim];
        float[] ye = new float[batch * dim];
        TokenPool.meanForward(x, batch, tokens, dim, y);
        TokenPoolReference.meanForward(x, batch, tokens, dim, ye);
        assertArrayEquals(ye, y, "forward");
        float[] dx = new float[x.length];
        float[] dxe = new float[x.length];
        TokenPool.meanBackward(y, batch, tokens, dim, dx);
        TokenPoolReference.meanBackward(y, batch, tokens, dim, dxe);
        assertArrayEquals(dxe, dx, "backward");
    }
}
