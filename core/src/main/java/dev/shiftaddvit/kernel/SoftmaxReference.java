package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link Softmax} against at every vector width: {@link Math#exp} instead
 * of the vector polynomial.
 */
public final class SoftmaxReference {
    private SoftmaxReference() {
    }

    /** Oracle of {@link Softmax#expScaled}. */
    public static void expScaled(float[] x, int xOff, float scale, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = (float) Math.exp(x[xOff + i] * scale);
    }

    /** Oracle of {@link Softmax#forwardRows}. */
    public static void forwardRows(float[] x, int off, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xo = off + r * cols;
            int yo = yOff + r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x[xo + c]);
            float sum = 0f;
            for (int c = 0; c < cols; c++) {
                float e = (float) Math.exp(x[xo + c] - max);
                y[yo + c] = e;
                sum += e;
            }
            for (int c = 0; c < cols; c++) y[yo + c] /= sum;
        }
    }

    /** Oracle of {@link Softmax#backwardRows}. */
    public static void backwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                    int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float dot = 0f;
            for (int c = 0; c < cols; c++) dot += dy[dyOff + r * cols + c] * y[yOff + r * cols + c];
            for (int c = 0; c < cols; c++) {
                dx[dxOff + r * cols + c] = (dy[dyOff + r * cols + c] - dot) * y[yOff + r * cols + c];
            }
        }
    }
}
