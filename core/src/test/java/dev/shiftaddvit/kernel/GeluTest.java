package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.SIZES;
import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GeluTest {

    @Test
    void erfApproximationIsWithinThreeTenthsOfAMillionthEverywhere() {
        double worst = 0;
        for (double u = -7; u <= 7; u += 1.0 / 1024) {
            float uf = (float) u;
            double err = Math.abs(Gelu.erf(uf) - erfDouble(uf));
            worst = Math.max(worst, err);
        }
        assertTrue(worst < 3e-7, "worst |erf error| " + worst);
    }

    @Test
    void vectorErfMatchesScalarErf() {
        int n = 4096;
        float[] u = new float[n];
        for (int i = 0; i < n; i++) u[i] = -8f + 16f * i / n;
        float[] v = new float[n];
        for (int i = 0; i <= n - Gelu.F.length(); i += Gelu.F.length()) {
            Gelu.onePlusErf(jdk.incubator.vector.FloatVector.fromArray(Gelu.F, u, i)).intoArray(v, i);
        }
        for (int i = 0; i < n; i++) {
            assertClose(Gelu.onePlusErfScalar(u[i]), v[i], 1e-7, 4e-7, "1+erf(" + u[i] + ")");
        }
    }

    @Test
    void forwardMatchesScalarTwinAcrossSizesAndInPlace() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int n : SIZES) {
            float[] x = randn(rnd, n, 3f, 0f);
            float[] y = new float[n];
            float[] ye = new float[n];
            Gelu.forward(x, y, n);
            GeluReference.forward(x, ye, n);
            assertClose(ye, y, 1e-6, 1e-6, "n=" + n);
            float[] inPlace = x.clone();
            Gelu.forward(inPlace, inPlace, n);
            assertClose(ye, inPlace, 1e-6, 1e-6, "in place n=" + n);
        }
    }

    @Test
    void forwardMatchesExactGeluToLibtorchTolerance() {
        int n = 20001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -10f + 20f * i / (n - 1);
        float[] y = new float[n];
        Gelu.forward(x, y, n);
        for (int i = 0; i < n; i++) {
            double e = 0.5 * x[i] * (1 + erfDouble(x[i] / Math.sqrt(2)));
            assertClose(e, y[i], 2e-6, 1e-6, "gelu(" + x[i] + ")");
        }
        float[] ext = {-100f, -30f, 30f, 100f, 0f, -0f};
        float[] ye = new float[ext.length];
        Gelu.forward(ext, ye, ext.length);
        assertEquals(0f, ye[0], 0f);
        assertEquals(0f, ye[1], 1e-30f);
        assertEquals(30f, ye[2], 0f);
        assertEquals(100f, ye[3], 0f);
        assertEquals(0f, ye[4], 0f);
        float[] nan = {Float.NaN, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f, 16f};
        Gelu.forward(nan, nan, nan.length);
        assertTrue(Float.isNaN(nan[0]), "NaN propagates");
    }

    @Test
    void backwardMatchesScalarTwinAcrossSizes() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (int n : SIZES) {
            float[] x = randn(rnd, n, 3f, 0f);
            float[] dy = randn(rnd, n, 1f, 0f);
            float[] dx = new float[n];
            float[] dxe = new float[n];
            Gelu.backward(x, dy, dx, n);
            GeluReference.backward(x, dy, dxe, n);
            assertClose(dxe, dx, 1e-6, 1e-6, "n=" + n);
            float[] alias = dy.clone();
            Gelu.backward(x, alias, alias, n);
            assertClose(dxe, alias, 1e-6, 1e-6, "dx aliasing dy, n=" + n);
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesOfExactGeluInDouble() {
        int n = 4001;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -8f + 16f * i / (n - 1);
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        float[] dx = new float[n];
        Gelu.backward(x, ones, dx, n);
        for (int i = 0; i < n; i++) {
            double h = 1e-5;
            double fd = (geluDouble(x[i] + h) - geluDouble(x[i] - h)) / (2 * h);
            assertClose(fd, dx[i], 2e-6, 2e-6, "gelu'(" + x[i] + ")");
        }
    }

    @Test
    void largeArraysThroughParallelPathMatchScalarTwin() {
        SplittableRandom rnd = new SplittableRandom(13);
        int n = (1 << 20) + 13;
        float[] x = randn(rnd, n, 2f, 0f);
        float[] y = new float[n];
        float[] ye = new float[n];
        Gelu.forward(x, y, n);
        GeluReference.forward(x, ye, n);
        assertClose(ye, y, 1e-6, 1e-6, "forward");
        float[] dy = randn(rnd, n, 1f, 0f);
        Gelu.backward(x, dy, y, n);
        GeluReference.backward(x, dy, ye, n);
        assertClose(ye, y, 1e-6, 1e-6, "backward");
    }

    static double geluDouble(double x) {
        return 0.5 * x * (1 + erfDouble(x / Math.sqrt(2)));
    }

    /**
     * erf in double: the all-positive series erf(x) = 2/√π·e^{−x²}·Σ_n 2^n x^{2n+1}/(1·3·…·(2n+1))
     * (no cancellation) for |x| ≤ 6, ±1 beyond (1 − erf(6) ≈ 2e-17).
     */
    static double erfDouble(double x) {
        double ax = Math.abs(x);
        if (ax > 6) return Math.signum(x);
        double term = ax;
        double sum = ax;
        for (int n = 1; n < 400; n++) {
            term *= 2 * ax * ax / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        double r = 2 / Math.sqrt(Math.PI) * Math.exp(-ax * ax) * sum;
        return Math.copySign(r, x);
    }
}
