package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.dot;
import static dev.shiftaddvit.kernel.KernelTestSupport.numericGrad;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static dev.shiftaddvit.kernel.KernelTestSupport.toDouble;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LayerNormKernelTest {
    private static final int[] DIMS = {1, 2, 3, 7, 8, 13, 16, 17, 33, 64, 65, 192, 385};
    private static final int[] ROWS = {1, 3, 5};

    @Test
    void forwardMatchesScalarTwinAcrossShapesAndTails() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int dim : DIMS) {
            for (int rows : ROWS) {
                float[] x = randn(rnd, rows * dim, 2f, 3f);
                float[] g = randn(rnd, dim, 1f, 1f);
                float[] b = randn(rnd, dim, 0.5f, 0f);
                float[] y = new float[rows * dim];
                float[] m = new float[rows];
                float[] r = new float[rows];
                float[] ye = new float[rows * dim];
                float[] me = new float[rows];
                float[] re = new float[rows];
                LayerNormKernel.forward(x, g, b, y, m, r, rows, dim, 1e-5f);
                LayerNormKernelReference.forward(x, g, b, ye, me, re, rows, dim, 1e-5f);
                String at = "rows=" + rows + " dim=" + dim;
                assertClose(ye, y, 1e-5, 1e-5, at + " y");
                assertClose(me, m, 1e-5, 1e-5, at + " mean");
                assertClose(re, r, 1e-5, 1e-5, at + " rstd");
            }
        }
    }

    @Test
    void forwardAgreesWithDoublePrecisionDefinitionAndAllowsNullStats() {
        SplittableRandom rnd = new SplittableRandom(2);
        int rows = 4;
        int dim = 97;
        float[] x = randn(rnd, rows * dim, 1f, 50f);   // large common offset stresses the variance
        float[] g = randn(rnd, dim, 1f, 1f);
        float[] b = randn(rnd, dim, 1f, 0f);
        float[] y = new float[rows * dim];
        LayerNormKernel.forward(x, g, b, y, null, null, rows, dim, 1e-6f);
        double[] yd = forwardDouble(toDouble(x), toDouble(g), toDouble(b), rows, dim, 1e-6);
        assertClose(yd, y, 2e-4, 1e-4, "vs double");
    }

    @Test
    void backwardMatchesScalarTwinAndAccumulatesParameterGradients() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int dim : DIMS) {
            for (int rows : ROWS) {
                float[] x = randn(rnd, rows * dim, 1.5f, -1f);
                float[] g = randn(rnd, dim, 1f, 1f);
                float[] b = randn(rnd, dim, 1f, 0f);
                float[] m = new float[rows];
                float[] r = new float[rows];
                LayerNormKernel.forward(x, g, b, new float[rows * dim], m, r, rows, dim, 1e-5f);
                float[] dy = randn(rnd, rows * dim, 1f, 0f);
                float[] dg0 = randn(rnd, dim, 1f, 0f);
                float[] db0 = randn(rnd, dim, 1f, 0f);
                float[] dx = new float[rows * dim];
                java.util.Arrays.fill(dx, Float.NaN);   // must be overwritten
                float[] dg = dg0.clone();
                float[] db = db0.clone();
                float[] dxe = new float[rows * dim];
                float[] dge = dg0.clone();
                float[] dbe = db0.clone();
                LayerNormKernel.backward(dy, x, g, m, r, dx, dg, db, rows, dim);
                LayerNormKernelReference.backward(dy, x, g, m, r, dxe, dge, dbe, rows, dim);
                String at = "rows=" + rows + " dim=" + dim;
                assertClose(dxe, dx, 5e-5, 1e-4, at + " dx");
                assertClose(dge, dg, 2e-5, 1e-5, at + " dgamma");
                assertClose(dbe, db, 2e-5, 1e-5, at + " dbeta");
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesInDouble() {
        SplittableRandom rnd = new SplittableRandom(4);
        for (int dim : new int[] {1, 3, 8, 13, 33}) {
            int rows = 3;
            float[] x = randn(rnd, rows * dim, 1f, 0.5f);
            float[] g = randn(rnd, dim, 1f, 1f);
            float[] b = randn(rnd, dim, 1f, 0f);
            float[] w = randn(rnd, rows * dim, 1f, 0f);   // loss = Σ w ⊙ y, so dy = w
            float eps = 1e-3f;   // not tiny, so the dim=1 row has a finite, smooth gradient
            float[] m = new float[rows];
            float[] r = new float[rows];
            LayerNormKernel.forward(x, g, b, new float[rows * dim], m, r, rows, dim, eps);
            float[] dx = new float[rows * dim];
            float[] dg = new float[dim];
            float[] db = new float[dim];
            LayerNormKernel.backward(w, x, g, m, r, dx, dg, db, rows, dim);

            double[] xd = toDouble(x);
            double[] gd = toDouble(g);
            double[] bd = toDouble(b);
            double[] wd = toDouble(w);
            java.util.function.DoubleSupplier loss = () -> dot(wd, forwardDouble(xd, gd, bd, rows, dim, eps));
            assertClose(numericGrad(xd, loss), dx, 1e-4, 1e-4, "dim=" + dim + " dx");
            assertClose(numericGrad(gd, loss), dg, 1e-4, 1e-4, "dim=" + dim + " dgamma");
            assertClose(numericGrad(bd, loss), db, 1e-4, 1e-4, "dim=" + dim + " dbeta");
        }
    }

    @Test
    void largeInputsThroughParallelPathMatchScalarTwinAndAreDeterministic() {
        SplittableRandom rnd = new SplittableRandom(5);
        int rows = 3001;
        int dim = 384;
        float[] x = randn(rnd, rows * dim, 1f, 0.3f);
        float[] g = randn(rnd, dim, 1f, 1f);
        float[] b = randn(rnd, dim, 1f, 0f);
        float[] y = new float[rows * dim];
        float[] m = new float[rows];
        float[] r = new float[rows];
        float[] ye = new float[rows * dim];
        LayerNormKernel.forward(x, g, b, y, m, r, rows, dim, 1e-5f);
        LayerNormKernelReference.forward(x, g, b, ye, null, null, rows, dim, 1e-5f);
        assertClose(ye, y, 1e-5, 1e-5, "y");

        float[] dy = randn(rnd, rows * dim, 1f, 0f);
        float[] dx = new float[rows * dim];
        float[] dg = new float[dim];
        float[] db = new float[dim];
        LayerNormKernel.backward(dy, x, g, m, r, dx, dg, db, rows, dim);
        float[] dxe = new float[rows * dim];
        float[] dge = new float[dim];
        float[] dbe = new float[dim];
        LayerNormKernelReference.backward(dy, x, g, m, r, dxe, dge, dbe, rows, dim);
        assertClose(dxe, dx, 5e-5, 1e-4, "dx");
        assertClose(dge, dg, 2e-3, 1e-4, "dgamma");
        assertClose(dbe, db, 2e-3, 1e-4, "dbeta");

        float[] dg2 = new float[dim];
        float[] db2 = new float[dim];
        LayerNormKernel.backward(dy, x, g, m, r, new float[rows * dim], dg2, db2, rows, dim);
        assertArrayEquals(dg, dg2, "dgamma must be bit-identical across runs");
        assertArrayEquals(db, db2, "dbeta must be bit-identical across runs");
    }

    // ---- helpers ------------------------------------------------------------------------------

    static double[] forwardDouble(double[] x, double[] g, double[] b, int rows, int dim, double eps) {
        double[] y = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            for (int i = 0; i < dim; i++) mu += x[r * dim + i];
            mu /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) var += (x[r * dim + i] - mu) * (x[r * dim + i] - mu);
            var /= dim;
            double rs = 1 / Math.sqrt(var + eps);
            for (int i = 0; i < dim; i++) y[r * dim + i] = (x[r * dim + i] - mu) * rs * g[i] + b[i];
        }
        return y;
    }
}
