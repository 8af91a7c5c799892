package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link LayerNormKernel} against at every vector width: one row at a
 * time in float, mean and variance in two passes.
 */
public final class LayerNormKernelReference {
    private LayerNormKernelReference() {
    }

    /** Oracle of {@link LayerNormKernel#forward}. */
    public static void forward(float[] x, float[] gamma, float[] beta, float[] y, float[] mean,
                               float[] rstd, int rows, int dim, float eps) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float s = 0f;
            for (int i = 0; i < dim; i++) s += x[o + i];
            float mu = s / dim;
            float ss = 0f;
            for (int i = 0; i < dim; i++) ss += (x[o + i] - mu) * (x[o + i] - mu);
            float rs = (float) (1.0 / Math.sqrt(ss / dim + eps));
            if (mean != null) mean[r] = mu;
            if (rstd != null) rstd[r] = rs;
            for (int i = 0; i < dim; i++) y[o + i] = (x[o + i] - mu) * rs * gamma[i] + beta[i];
        }
    }

    /** Oracle of {@link LayerNormKernel#backward}. */
    public static void backward(float[] dy, float[] x, float[] gamma, float[] mean, float[] rstd,
                                float[] dx, float[] dgamma, float[] dbeta, int rows, int dim) {
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float mu = mean[r];
            float rs = rstd[r];
            float a = 0f;
            float b = 0f;
            for (int i = 0; i < dim; i++) {
                float xh = (x[o + i] - mu) * rs;
                float g = dy[o + i] * gamma[i];
                a += g;
                b += g * xh;
                if (dgamma != null) dgamma[i] += dy[o + i] * xh;
                if (dbeta != null) dbeta[i] += dy[o + i];
            }
            if (dx == null) continue;
            for (int i = 0; i < dim; i++) {
                float xh = (x[o + i] - mu) * rs;
                dx[o + i] = (dy[o + i] * gamma[i] - a / dim - xh * b / dim) * rs;
            }
        }
    }
}
