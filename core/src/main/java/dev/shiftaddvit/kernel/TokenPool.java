package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** Mean over the token axis of token-major activations [batch, tokens, dim] → [batch, dim]. */
public final class TokenPool {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    private static final int GRAIN = 16384;

    private TokenPool() {
    }

    /** y[b,d] = (1/tokens)·Σ_t x[b,t,d]. */
    public static void meanForward(float[] x, int batch, int tokens, int dim, float[] y) {
        if (batch <= 0 || dim <= 0) return;
        if (tokens <= 0) throw new IllegalArgumentException("tokens must be > 0, got " + tokens);
        Parallel.forRange(batch, Math.max(1, GRAIN / Math.max(1, tokens * dim)), (b0, b1) -> {
            FloatVector tv = FloatVector.broadcast(F, (float) tokens);
            for (int b = b0; b < b1; b++) {
                int yo = b * dim;
                int xo = b * tokens * dim;
                int d = 0;
                for (; d <= dim - L; d += L) {
                    FloatVector acc = FloatVector.fromArray(F, x, xo + d);
                    for (int t = 1; t < tokens; t++) acc = acc.add(FloatVector.fromArray(F, x, xo + t * dim + d));
                    acc.div(tv).intoArray(y, yo + d);
                }
                for (; d < dim; d++) {
                    float s = x[xo + d];
                    for (int t = 1; t < tokens; t++) s += x[xo + t * dim + d];
                    y[yo + d] = s / tokens;
                }
            }
        });
    }

    /** dx[b,t,d] = dy[b,d]/tokens (dx overwritten). */
    public static void meanBackward(float[] dy, int batch, int tokens, int dim, float[] dx) {
        if (batch <= 0 || dim <= 0 || tokens <= 0) return;
        Parallel.forRange(batch, Math.max(1, GRAIN / Math.max(1, tokens * dim)), (b0, b1) -> {
            FloatVector tv = FloatVector.broadcast(F, (float) tokens);
            for (int b = b0; b < b1; b++) {
                int yo = b * dim;
                int xo = b * tokens * dim;
                int d = 0;
                for (; d <= dim - L; d += L) {
                    FloatVector g = FloatVector.fromArray(F, dy, yo + d).div(tv);
                    for (int t = 0; t < tokens; t++) g.intoArray(dx, xo + t * dim + d);
                }
                for (; d < dim; d++) {
                    float g = dy[yo + d] / tokens;
                    for (int t = 0; t < tokens; t++) dx[xo + t * dim + d] = g;
                }
            }
        });
    }
}
