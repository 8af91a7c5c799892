package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link TokenPool} against at every vector width: plain loops over the
 * token axis.
 */
public final class TokenPoolReference {
    private TokenPoolReference() {
    }

    /** Oracle of {@link TokenPool#meanForward}. */
    public static void meanForward(float[] x, int batch, int tokens, int dim, float[] y) {
        for (int b = 0; b < batch; b++) {
            for (int d = 0; d < dim; d++) {
                float s = 0f;
                for (int t = 0; t < tokens; t++) s += x[(b * tokens + t) * dim + d];
                y[b * dim + d] = s / tokens;
            }
        }
    }

    /** Oracle of {@link TokenPool#meanBackward}. */
    public static void meanBackward(float[] dy, int batch, int tokens, int dim, float[] dx) {
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < tokens; t++) {
                for (int d = 0; d < dim; d++) dx[(b * tokens + t) * dim + d] = dy[b * dim + d] / tokens;
            }
        }
    }
}
