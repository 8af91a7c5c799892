package dev.shiftaddvit.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise helpers over float[] (vectorised, parallel when large). Reductions that
 * accumulate into a caller's array are deterministic: the split into blocks depends only on
 * the shape, never on the thread count or scheduling.
 */
public final class Ops {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    /** Elements per parallel chunk for streaming element-wise work. */
    static final int GRAIN = 32768;
    /** Largest number of partial-sum blocks a column reduction splits into. */
    static final int MAX_BLOCKS = 32;

    private Ops() {
    }

    /** out = a + b over [0, n); out may alias a or b. */
    public static void add(float[] a, float[] b, float[] out, int n) {
        Parallel.forElements(n, GRAIN, (from, to) -> {
            int i = from;
            for (; i <= to - L; i += L) {
                FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(out, i);
            }
            for (; i < to; i++) out[i] = a[i] + b[i];
        });
    }

    /** dst += src over [0, n). */
    public static void addInPlace(float[] dst, float[] src, int n) {
        add(dst, src, dst, n);
    }

    /** dst[dOff + i] += src[sOff + i] for i in [0, n) (ranges must not overlap unless equal). */
    public static void addInPlace(float[] dst, int dOff, float[] src, int sOff, int n) {
        Parallel.forElements(n, GRAIN, (from, to) -> addInto(dst, dOff + from, src, sOff + from, to - from));
    }

    /** x *= s over [0, n). */
    public static void scale(float[] x, float s, int n) {
        Parallel.forElements(n, GRAIN, (from, to) -> {
            FloatVector sv = FloatVector.broadcast(F, s);
            int i = from;
            for (; i <= to - L; i += L) FloatVector.fromArray(F, x, i).mul(sv).intoArray(x, i);
            for (; i < to; i++) x[i] *= s;
        });
    }

    /** y[r,c] += bias[c]. */
    public static void addBiasRows(float[] y, float[] bias, int rows, int cols) {
        addBiasRows(y, 0, bias, rows, cols);
    }

    /** y[off + r·cols + c] += bias[c]. */
    public static void addBiasRows(float[] y, int off, float[] bias, int rows, int cols) {
        if (cols <= 0) return;
        Parallel.forRange(rows, Math.max(1, GRAIN / cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) addInto(y, off + r * cols, bias, 0, cols);
        });
    }

    /** dbias[c] += Σ_r dy[r,c] (accumulates; deterministic per shape). */
    public static void sumRows(float[] dy, float[] dbias, int rows, int cols) {
        if (rows <= 0 || cols <= 0) return;
        int nb = blocks(rows, cols);
        if (nb == 1) {
            float[] part = new float[cols];
            for (int r = 0; r < rows; r++) addInto(part, 0, dy, r * cols, cols);
            addInto(dbias, 0, part, 0, cols);
            return;
        }
        float[] part = new float[nb * cols];
        Parallel.forRange(nb, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int r0 = (int) ((long) rows * b / nb);
                int r1 = (int) ((long) rows * (b + 1) / nb);
                for (int r = r0; r < r1; r++) addInto(part, b * cols, dy, r * cols, cols);
            }
        });
        float[] sum = new float[cols];
        for (int b = 0; b < nb; b++) addInto(sum, 0, part, b * cols, cols);
        addInto(dbias, 0, sum, 0, cols);
    }

    /** Σ x[i]² accumulated in double (squares are exact in double). */
    public static float sumSquares(float[] x, int n) {
        if (n <= 0) return 0f;
        int nb = (int) Math.min(MAX_BLOCKS, Math.max(1, (long) n / GRAIN));
        double[] part = new double[nb];
        Parallel.forRange(nb, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int from = (int) ((long) n * b / nb);
                int to = (int) ((long) n * (b + 1) / nb);
                part[b] = sumSquaresRange(x, from, to);
            }
        });
        double s = 0;
        for (double p : part) s += p;
        return (float) s;
    }

    private static final VectorSpecies<Double> D = VectorWidth.DOUBLE;

    private static double sumSquaresRange(float[] x, int from, int to) {
        int i = from;
        double s = 0;
        if (D.length() * 2 == L) {
            DoubleVector a0 = DoubleVector.zero(D);
            DoubleVector a1 = DoubleVector.zero(D);
            for (; i <= to - L; i += L) {
                FloatVector v = FloatVector.fromArray(F, x, i);
                DoubleVector d0 = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector d1 = (DoubleVector) v.convertShape(VectorOperators.F2D, D, 1);
                a0 = d0.fma(d0, a0);
                a1 = d1.fma(d1, a1);
            }
            s = LaneSum.sum(a0.add(a1));
        }
        for (; i < to; i++) {
            double v = x[i];
            s += v * v;
        }
        return s;
    }

    /** dst[dOff + j] += src[sOff + j] for j in [0, n). */
    static void addInto(float[] dst, int dOff, float[] src, int sOff, int n) {
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector.fromArray(F, dst, dOff + j).add(FloatVector.fromArray(F, src, sOff + j))
                    .intoArray(dst, dOff + j);
        }
        for (; j < n; j++) dst[dOff + j] += src[sOff + j];
    }

    /**
     * Number of partial-sum blocks for a reduction over rows of a [rows, cols] matrix: a function
     * of the shape only, so results do not depend on the thread count.
     */
    static int blocks(int rows, int cols) {
        long work = (long) rows * cols;
        return (int) Math.max(1, Math.min(Math.min(MAX_BLOCKS, rows), work / GRAIN));
    }
}
