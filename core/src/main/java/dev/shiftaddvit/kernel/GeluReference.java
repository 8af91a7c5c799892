package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link Gelu} against at every vector width: gelu(x) and
 * gelu'(x) = Φ(x) + x·φ(x) element by element. It uses Gelu's own scalar erf, so it checks the vector
 * arithmetic; GeluTest holds that erf to the exact one separately.
 */
public final class GeluReference {
    private GeluReference() {
    }

    /** Oracle of {@link Gelu#forward}. */
    public static void forward(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) y[i] = Gelu.geluScalar(x[i]);
    }

    /** Oracle of {@link Gelu#backward}. */
    public static void backward(float[] x, float[] dy, float[] dx, int n) {
        for (int i = 0; i < n; i++) dx[i] = dy[i] * geluGrad(x[i]);
    }

    /** gelu'(x) = Φ(x) + x·φ(x). */
    private static float geluGrad(float x) {
        float cdf = 0.5f * Gelu.onePlusErfScalar(x * Gelu.INV_SQRT2);
        float pdf = (float) Math.exp(-0.5f * x * x) * Gelu.INV_SQRT_2PI;
        return Math.fma(x, pdf, cdf);
    }
}
