package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * LayerNorm over the last dimension of a row-major [rows, dim] matrix, as PyTorch's
 * {@code nn.LayerNorm} (biased variance, eps inside the square root). Mean and variance are
 * computed in two passes for accuracy. The backward accumulates dgamma/dbeta through per-block
 * partial sums whose split depends only on the shape, so results are deterministic.
 */
public final class LayerNormKernel {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    private static final int GRAIN = 16384;

    private LayerNormKernel() {
    }

    /** y = (x − mean)·rstd·gamma + beta per row; mean/rstd (length rows) are written when non-null. */
    public static void forward(float[] x, float[] gamma, float[] beta, float[] y, float[] mean, float[] rstd,
                               int rows, int dim, float eps) {
        if (rows <= 0 || dim <= 0) return;
        Parallel.forRange(rows, Math.max(1, GRAIN / dim), (r0, r1) -> {
            for (int r = r0; r < r1; r++) forwardRow(x, r * dim, gamma, beta, y, r * dim, mean, rstd, r, dim, eps);
        });
    }

    /**
     * {@link #forward} without statistics for rows [0, rows) at x[xOff + r·dim] into y[yOff + r·dim], on
     * the calling thread: for a caller that runs a layer one row block at a time (a row's bits are the same).
     */
    public static void forwardRows(float[] x, int xOff, float[] gamma, float[] beta, float[] y, int yOff, int rows,
                                   int dim, float eps) {
        for (int r = 0; r < rows; r++) forwardRow(x, xOff + r * dim, gamma, beta, y, yOff + r * dim, null, null, r, dim, eps);
    }

    private static void forwardRow(float[] x, int o, float[] gamma, float[] beta, float[] y, int yo, float[] mean,
                                   float[] rstd, int r, int dim, float eps) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= dim - L; i += L) acc = acc.add(FloatVector.fromArray(F, x, o + i));
        float s = LaneSum.sum(acc);
        for (; i < dim; i++) s += x[o + i];
        float mu = s / dim;

        FloatVector mv = FloatVector.broadcast(F, mu);
        acc = FloatVector.zero(F);
        i = 0;
        for (; i <= dim - L; i += L) {
            FloatVector d = FloatVector.fromArray(F, x, o + i).sub(mv);
            acc = d.fma(d, acc);
        }
        float ss = LaneSum.sum(acc);
        for (; i < dim; i++) {
            float d = x[o + i] - mu;
            ss += d * d;
        }
        float rs = (float) (1.0 / Math.sqrt(ss / dim + eps));
        if (mean != null) mean[r] = mu;
        if (rstd != null) rstd[r] = rs;

        FloatVector rv = FloatVector.broadcast(F, rs);
        i = 0;
        for (; i <= dim - L; i += L) {
            FloatVector xh = FloatVector.fromArray(F, x, o + i).sub(mv).mul(rv);
            xh.fma(FloatVector.fromArray(F, gamma, i), FloatVector.fromArray(F, beta, i)).intoArray(y, yo + i);
        }
        for (; i < dim; i++) y[yo + i] = (x[o + i] - mu) * rs * gamma[i] + beta[i];
    }

    /**
     * dx = rstd·(g − mean(g) − x̂·mean(g⊙x̂)) with g = dy⊙gamma, x̂ = (x − mean)·rstd (dx overwritten);
     * dgamma += Σ_rows dy⊙x̂, dbeta += Σ_rows dy (each may be null). mean/rstd are the ones the
     * training forward wrote; dx may be null to skip the input gradient.
     */
    public static void backward(float[] dy, float[] x, float[] gamma, float[] mean, float[] rstd, float[] dx,
                                float[] dgamma, float[] dbeta, int rows, int dim) {
        if (rows <= 0 || dim <= 0) return;
        int nb = Ops.blocks(rows, dim);
        float[] pg = new float[nb * dim];
        float[] pb = new float[nb * dim];
        Parallel.forRange(nb, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int r0 = (int) ((long) rows * b / nb);
                int r1 = (int) ((long) rows * (b + 1) / nb);
                for (int r = r0; r < r1; r++) {
                    backwardRow(dy, x, gamma, mean[r], rstd[r], dx, pg, pb, b * dim, r * dim, dim);
                }
            }
        });
        for (int b = 1; b < nb; b++) {
            Ops.addInto(pg, 0, pg, b * dim, dim);
            Ops.addInto(pb, 0, pb, b * dim, dim);
        }
        if (dgamma != null) Ops.addInto(dgamma, 0, pg, 0, dim);
        if (dbeta != null) Ops.addInto(dbeta, 0, pb, 0, dim);
    }

    private static void backwardRow(float[] dy, float[] x, float[] gamma, float mu, float rs, float[] dx,
                                    float[] pg, float[] pb, int po, int o, int dim) {
        FloatVector mv = FloatVector.broadcast(F, mu);
        FloatVector rv = FloatVector.broadcast(F, rs);
        FloatVector sa = FloatVector.zero(F);
        FloatVector sb = FloatVector.zero(F);
        int i = 0;
        for (; i <= dim - L; i += L) {
            FloatVector d = FloatVector.fromArray(F, dy, o + i);
            FloatVector xh = FloatVector.fromArray(F, x, o + i).sub(mv).mul(rv);
            FloatVector g = d.mul(FloatVector.fromArray(F, gamma, i));
            sa = sa.add(g);
            sb = g.fma(xh, sb);
            xh.fma(d, FloatVector.fromArray(F, pg, po + i)).intoArray(pg, po + i);
            d.add(FloatVector.fromArray(F, pb, po + i)).intoArray(pb, po + i);
        }
        float a = LaneSum.sum(sa);
        float bsum = LaneSum.sum(sb);
        for (; i < dim; i++) {
            float d = dy[o + i];
            float xh = (x[o + i] - mu) * rs;
            float g = d * gamma[i];
            a += g;
            bsum += g * xh;
            pg[po + i] += d * xh;
            pb[po + i] += d;
        }
        if (dx == null) return;
        float ma = a / dim;
        float mb = bsum / dim;
        FloatVector mav = FloatVector.broadcast(F, ma);
        FloatVector mbv = FloatVector.broadcast(F, mb);
        i = 0;
        for (; i <= dim - L; i += L) {
            FloatVector xh = FloatVector.fromArray(F, x, o + i).sub(mv).mul(rv);
            FloatVector g = FloatVector.fromArray(F, dy, o + i).mul(FloatVector.fromArray(F, gamma, i));
            g.sub(mav).sub(xh.mul(mbv)).mul(rv).intoArray(dx, o + i);
        }
        for (; i < dim; i++) {
            float xh = (x[o + i] - mu) * rs;
            float g = dy[o + i] * gamma[i];
            dx[o + i] = (g - ma - xh * mb) * rs;
        }
    }
}
