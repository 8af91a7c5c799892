package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-wise softmax (numerically stable: the row maximum is subtracted first) and its backward.
 * Rows are contiguous runs of {@code cols} floats starting at an offset. Also home of the
 * vectorised {@link #exp(FloatVector)} the other kernels share.
 */
public final class Softmax {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    /** Elements per parallel chunk, roughly. */
    private static final int GRAIN = 8192;

    private Softmax() {
    }

    /** y[r,:] = softmax(x[r,:]) for rows [0, rows); y may alias x (same offset). */
    public static void forwardRows(float[] x, int off, float[] y, int yOff, int rows, int cols) {
        if (rows <= 0 || cols <= 0) return;
        Parallel.forRange(rows, Math.max(1, GRAIN / cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) forwardRow(x, off + r * cols, y, yOff + r * cols, cols);
        });
    }

    /**
     * x[r,:] = softmax(scale·x[r,:]) in place for rows [0, rows), scale > 0: the attention form,
     * with the score scaling folded into the exponent instead of a separate pass. Runs on the
     * calling thread (callers parallelise over heads and row blocks).
     */
    public static void forwardRowsScaled(float[] x, int off, int rows, int cols, float scale) {
        for (int r = 0; r < rows; r++) forwardRowScaled(x, off + r * cols, cols, scale);
    }

    /**
     * y[i] = e^(x[i]·scale) for i in [0, n) with the vector exp (about 2 ulp; lanes past the range are
     * masked), on the calling thread: per-token Gaussian kernels such as KSH's e^(−D/2σ).
     */
    public static void expScaled(float[] x, int xOff, float scale, float[] y, int yOff, int n) {
        FloatVector sv = FloatVector.broadcast(F, scale);
        int i = 0;
        for (; i <= n - L; i += L) exp(FloatVector.fromArray(F, x, xOff + i).mul(sv)).intoArray(y, yOff + i);
        if (i < n) {
            VectorMask<Float> tail = F.indexInRange(i, n);
            exp(FloatVector.fromArray(F, x, xOff + i, tail).mul(sv)).intoArray(y, yOff + i, tail);
        }
    }

    /** dx = y ⊙ (dy − Σ dy⊙y) per row; dx may alias dy (same offset). */
    public static void backwardRows(float[] y, int yOff, float[] dy, int dyOff, float[] dx, int dxOff,
                                    int rows, int cols) {
        if (rows <= 0 || cols <= 0) return;
        Parallel.forRange(rows, Math.max(1, GRAIN / cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                backwardRow(y, yOff + r * cols, dy, dyOff + r * cols, dx, dxOff + r * cols, cols);
            }
        });
    }

    static void forwardRow(float[] x, int xo, float[] y, int yo, int n) {
        float max = rowMax(x, xo, n);
        FloatVector mv = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = expNonPositive(FloatVector.fromArray(F, x, xo + i).sub(mv));
            e.intoArray(y, yo + i);
            acc = acc.add(e);
        }
        float sum = LaneSum.sum(acc);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - max);
            y[yo + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        FloatVector iv = FloatVector.broadcast(F, inv);
        i = 0;
        for (; i <= n - L; i += L) FloatVector.fromArray(F, y, yo + i).mul(iv).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] *= inv;
    }

    private static void forwardRowScaled(float[] x, int xo, int n, float scale) {
        float max = rowMax(x, xo, n);
        FloatVector sv = FloatVector.broadcast(F, scale);
        FloatVector shift = FloatVector.broadcast(F, -scale * max);
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = expNonPositive(FloatVector.fromArray(F, x, xo + i).fma(sv, shift));
            e.intoArray(x, xo + i);
            acc = acc.add(e);
        }
        if (i < n) {
            VectorMask<Float> tail = F.indexInRange(i, n);
            FloatVector e = expNonPositive(FloatVector.fromArray(F, x, xo + i, tail).fma(sv, shift));
            e.intoArray(x, xo + i, tail);
            acc = acc.add(e, tail);
        }
        float inv = 1f / LaneSum.sum(acc);
        FloatVector iv = FloatVector.broadcast(F, inv);
        i = 0;
        for (; i <= n - L; i += L) FloatVector.fromArray(F, x, xo + i).mul(iv).intoArray(x, xo + i);
        for (; i < n; i++) x[xo + i] *= inv;
    }

    private static void backwardRow(float[] y, int yo, float[] dy, int dyo, float[] dx, int dxo, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = FloatVector.fromArray(F, dy, dyo + i).fma(FloatVector.fromArray(F, y, yo + i), acc);
        }
        float dot = LaneSum.sum(acc);
        for (; i < n; i++) dot += dy[dyo + i] * y[yo + i];
        FloatVector dv = FloatVector.broadcast(F, dot);
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(F, dy, dyo + i).sub(dv).mul(FloatVector.fromArray(F, y, yo + i))
                    .intoArray(dx, dxo + i);
        }
        for (; i < n; i++) dx[dxo + i] = (dy[dyo + i] - dot) * y[yo + i];
    }

    /** Maximum of x[off, off+n), n ≥ 1. */
    static float rowMax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (n >= L) {
            FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i <= n - L; i += L) mv = mv.max(FloatVector.fromArray(F, x, off + i));
            max = mv.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    // ---- vectorised exp -------------------------------------------------------------------

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;          // few mantissa bits: k·LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;        // ln2 − LN2_HI
    private static final float ROUND_MAGIC = 12582912f;         // 1.5·2^23: (v + M) − M rounds to nearest
    static final int MAGIC_BITS = 0x4B400000;           // bits of ROUND_MAGIC; bits(v + M) − this = round(v)
    private static final float EXP_LO = -87.33654f;             // ln(2^-126): below this, result flushes to 0
    private static final float EXP_HI = 88.72283f;              // ln(FLT_MAX): above this, +inf

    /**
     * e^x lane-wise, relative error about 2 ulp over the normal range; x below −87.34 gives 0,
     * above 88.72 gives +∞, NaN stays NaN. Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, then a
     * degree-7 Taylor polynomial of e^r (truncation error below 6e-9), scaled by 2^k as two exact
     * power-of-two factors 2^⌊k/2⌋·2^(k−⌊k/2⌋) so k = 128 does not overflow the exponent field.
     * k is read straight from the bits of x·log2e + 1.5·2^23 (no float→int conversion). Inputs
     * outside the range are not clamped (Java's max/min are costly); their lanes are replaced by
     * the two final blends instead.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.lt(EXP_LO);
        VectorMask<Float> over = x.compare(VectorOperators.GT, EXP_HI);
        FloatVector kb = expK(x);
        FloatVector p = expReduced(x, kb);
        IntVector ki = kb.reinterpretAsInts().sub(MAGIC_BITS);
        IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
        IntVector k2 = ki.sub(k1);
        FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2).blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }

    /**
     * e^x for x ≤ 0, the softmax case (scores minus their maximum): the same bits as {@link #exp} there,
     * with one exponent factor and no overflow lane, since k = round(x·log2e) lies in [−126, 0]
     * wherever the result is not 0. Lanes below −87.34 give 0; NaN stays NaN.
     */
    static FloatVector expNonPositive(FloatVector x) {
        VectorMask<Float> under = x.lt(EXP_LO);
        FloatVector kb = expK(x);
        FloatVector p = expReduced(x, kb);
        FloatVector scale = kb.reinterpretAsInts().sub(MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(scale).blend(0f, under);
    }

    /** x·log2e + 1.5·2^23: k = round(x·log2e) sits in its low mantissa bits, bits(kb) − MAGIC_BITS. */
    static FloatVector expK(FloatVector x) {
        return x.fma(FloatVector.broadcast(F, LOG2E), FloatVector.broadcast(F, ROUND_MAGIC));
    }

    /** e^r for the reduced argument r = x − k·ln2 (|r| ≤ ln2/2, k from {@link #expK}): the shared core of the exps. */
    static FloatVector expReduced(FloatVector x, FloatVector kb) {
        FloatVector k = kb.sub(ROUND_MAGIC);
        FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), x);
        r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(F, 1f / 5040f), FloatVector.broadcast(F, 1f / 720f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 120f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 24f));
        p = p.fma(r, FloatVector.broadcast(F, 1f / 6f));
        p = p.fma(r, FloatVector.broadcast(F, 0.5f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        return p.fma(r, FloatVector.broadcast(F, 1f));
    }
}
