package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact GELU, 0.5·x·(1 + erf(x/√2)), as PyTorch's default {@code nn.GELU()}, and its derivative.
 *
 * <p>erf comes from the Chebyshev-fitted erfc approximation
 * erfc(z) ≈ t·exp(−z² + P(t)), t = 1/(1 + z/2), z ≥ 0 (fractional error below 1.2e-7 in exact
 * arithmetic; measured in float: |erf error| ≤ 2.4e-7, |gelu error| ≤ 4e-7 on [−7, 7]). Using
 * the erfc form keeps GELU's negative tail (0.5·x·erfc(|x|/√2)) accurate in relative terms too.
 */
public final class Gelu {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    private static final int GRAIN = 16384;
    private static final int BLOCK = 512;

    static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float Z_MAX = 9f;
    static final float INV_SQRT_2PI = 0.39894228040143268f;

    // P(t) = C0 + C1·t + ... + C9·t^9
    private static final float C0 = -1.26551223f;
    private static final float C1 = 1.00002368f;
    private static final float C2 = 0.37409196f;
    private static final float C3 = 0.09678418f;
    private static final float C4 = -0.18628806f;
    private static final float C5 = 0.27886807f;
    private static final float C6 = -1.13520398f;
    private static final float C7 = 1.48851587f;
    private static final float C8 = -0.82215223f;
    private static final float C9 = 0.17087277f;

    private Gelu() {
    }

    /** y = gelu(x) over [0, n); y may be x. */
    public static void forward(float[] x, float[] y, int n) {
        Parallel.forElements(n, GRAIN, (from, to) -> forwardRange(x, from, y, from, to - from));
    }

    /**
     * y[yOff + i] = gelu(x[xOff + i]) for i in [0, n) on the calling thread (a row block's hidden
     * activations). An element gets the bits of {@link #forward} where both see it in a vector's lanes:
     * n a multiple of the vector length, as every row block of a hidden width that is one.
     */
    public static void forward(float[] x, int xOff, float[] y, int yOff, int n) {
        forwardRange(x, xOff, y, yOff, n);
    }

    /** dx = dy · gelu'(x) over [0, n) (dx overwritten; may alias dy); x is the forward input. */
    public static void backward(float[] x, float[] dy, float[] dx, int n) {
        Parallel.forElements(n, GRAIN, (from, to) -> {
            float[] cdf = new float[Math.min(BLOCK, to - from)];
            for (int s = from; s < to; s += BLOCK) {
                int e = Math.min(to, s + BLOCK);
                cdfBlock(x, s, e, cdf);
                gradBlock(x, dy, dx, s, e, cdf);
            }
        });
    }

    private static void forwardRange(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            v.mul(0.5f).mul(onePlusErf(v.mul(INV_SQRT2))).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] = geluScalar(x[xOff + i]);
    }

    // The backward is split in two loops over a small block so that each loop holds a single
    // inlined exp: one loop with both overflows C2's node budget and the vectors get boxed.

    /** cdf[i − from] = Φ(x[i]) = 0.5·(1 + erf(x/√2)). */
    private static void cdfBlock(float[] x, int from, int to, float[] cdf) {
        int i = from;
        for (; i <= to - L; i += L) {
            onePlusErf(FloatVector.fromArray(F, x, i).mul(INV_SQRT2)).mul(0.5f).intoArray(cdf, i - from);
        }
        for (; i < to; i++) cdf[i - from] = 0.5f * onePlusErfScalar(x[i] * INV_SQRT2);
    }

    /** dx = dy·(Φ(x) + x·φ(x)) with Φ from cdfBlock. */
    private static void gradBlock(float[] x, float[] dy, float[] dx, int from, int to, float[] cdf) {
        int i = from;
        for (; i <= to - L; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector pdf = Softmax.exp(v.mul(v).mul(-0.5f)).mul(INV_SQRT_2PI);
            v.fma(pdf, FloatVector.fromArray(F, cdf, i - from)).mul(FloatVector.fromArray(F, dy, i))
                    .intoArray(dx, i);
        }
        for (; i < to; i++) {
            float pdf = (float) Math.exp(-0.5f * x[i] * x[i]) * INV_SQRT_2PI;
            dx[i] = dy[i] * Math.fma(x[i], pdf, cdf[i - from]);
        }
    }

    /** 1 + erf(u), lane-wise. */
    static FloatVector onePlusErf(FloatVector u) {
        FloatVector z = u.abs();
        // erfc(9) ≈ 4e-37 is taken as 0 (as float exp underflow does); clamping keeps the exponent
        // argument in [−82.3, 0], where expErfc is valid.
        VectorMask<Float> tail = z.compare(VectorOperators.GT, Z_MAX);
        z = z.blend(Z_MAX, tail);
        FloatVector t = z.fma(0.5f, 1f);
        t = FloatVector.broadcast(F, 1f).div(t);
        FloatVector p = t.fma(C9, C8);
        p = p.fma(t, FloatVector.broadcast(F, C7));
        p = p.fma(t, FloatVector.broadcast(F, C6));
        p = p.fma(t, FloatVector.broadcast(F, C5));
        p = p.fma(t, FloatVector.broadcast(F, C4));
        p = p.fma(t, FloatVector.broadcast(F, C3));
        p = p.fma(t, FloatVector.broadcast(F, C2));
        p = p.fma(t, FloatVector.broadcast(F, C1));
        p = p.fma(t, FloatVector.broadcast(F, C0));
        FloatVector erfc = t.mul(expErfc(z.mul(z).neg().add(p))).blend(0f, tail);   // erfc(|u|)
        // u ≥ 0: 1 + erf(u) = 2 − erfc(u); u < 0: 1 + erf(u) = erfc(|u|)
        return erfc.neg().add(2f).blend(erfc, u.lt(0f));
    }

    /**
     * e^x for x in [−87, 0] (NaN stays NaN): {@link Softmax#exp} without its range blends and with a
     * single 2^k factor, as k ∈ [−126, 0] never leaves the exponent field. About a fifth fewer
     * instructions, and GELU is evaluated on every MLP activation.
     */
    private static FloatVector expErfc(FloatVector x) {
        FloatVector kb = Softmax.expK(x);
        IntVector scale = kb.reinterpretAsInts().sub(Softmax.MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        return Softmax.expReduced(x, kb).mul(scale.reinterpretAsFloats());
    }

    /** 1 + erf(u), scalar, same approximation as the vector path. */
    static float onePlusErfScalar(float u) {
        float z = Math.abs(u);
        if (z > Z_MAX) return u < 0f ? 0f : 2f;
        float t = 1f / Math.fma(z, 0.5f, 1f);
        float p = Math.fma(t, C9, C8);
        p = Math.fma(p, t, C7);
        p = Math.fma(p, t, C6);
        p = Math.fma(p, t, C5);
        p = Math.fma(p, t, C4);
        p = Math.fma(p, t, C3);
        p = Math.fma(p, t, C2);
        p = Math.fma(p, t, C1);
        p = Math.fma(p, t, C0);
        float erfc = t * (float) Math.exp(-(z * z) + p);
        return u < 0f ? erfc : 2f - erfc;
    }

    /** erf(u) with the kernel's approximation (absolute error ≤ 2.4e-7). */
    public static float erf(float u) {
        return onePlusErfScalar(u) - 1f;
    }

    /** gelu(x) for one float: the tail of {@link #forward}'s vector loop, and {@link GeluReference}'s element. */
    public static float geluScalar(float x) {
        return 0.5f * x * onePlusErfScalar(x * INV_SQRT2);
    }
}
