package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q16.16 fixed point as DeepShift/ShiftAddViT use it (HEAD {@code utils.round_to_fixed}, 16 integer
 * and 16 fraction bits).
 *
 * <ul>
 *   <li>{@link #quantize(float)}: Q(x) = clamp(floor(x·2^16)·2^-16, −32768, 32767), computed in float
 *       exactly as the PyTorch float path (every step is exact in fp32; floor, not round). NaN stays
 *       NaN, ±inf saturate.</li>
 *   <li>{@link #toFixed(float)}: the int32 raw value of Q(x), i.e. Q(x)·2^16, which always fits
 *       int32: [−2^31, 32767·2^16]. NaN maps to 0. {@code toFixed(x) == (int) (quantize(x) * 65536f)}
 *       for every non-NaN x, so the integer kernels see exactly the float simulation's activations.</li>
 *   <li>{@link #toFloat(int)}: q·2^-16 (int → float rounds to nearest above 2^24 in magnitude).</li>
 * </ul>
 *
 * Array versions are vectorised (FloatVector/IntVector of the preferred species) and split over the
 * shared pool for large arrays; {@link FixedPointReference} has their scalar twins, which the tests
 * hold them to bit for bit. The Vector API has no floor, so the vector paths floor as trunc − (trunc &gt; y) for
 * |y| &lt; 2^23 and keep y where it is already integral (or zero, to keep floor(−0) = −0).
 */
public final class FixedPoint {
    /** Fraction bits of the activation/bias format. */
    public static final int FRACTION_BITS = 16;
    /** 2^16. */
    public static final float SCALE = 65536f;
    /** 2^-16: one unit in the last place of the format. */
    public static final float ULP = 0x1p-16f;
    /** Lower clamp of Q in real units (−2^15). */
    public static final float MIN = -32768f;
    /** Upper clamp of Q in real units (2^15 − 1, as upstream; not 2^15 − 2^-16). */
    public static final float MAX = 32767f;
    /** Smallest raw value: MIN·2^16 = −2^31. */
    public static final int RAW_MIN = Integer.MIN_VALUE;
    /** Largest raw value: MAX·2^16. */
    public static final int RAW_MAX = 32767 << 16;

    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    static final VectorSpecies<Integer> I = VectorWidth.INT;
    private static final int L = F.length();
    private static final float INTEGRAL = 0x1p23f;
    private static final int CHUNK = 1 << 15;

    private FixedPoint() {
    }

    // ---- scalar ----

    /** Q(x) = clamp(floor(x·2^16)·2^-16, −32768, 32767). */
    public static float quantize(float x) {
        float y = (float) Math.floor(x * SCALE) * ULP;
        return Math.min(Math.max(y, MIN), MAX);
    }

    /** Raw int32 Q16.16 value of Q(x); NaN gives 0. */
    public static int toFixed(float x) {
        float y = (float) Math.floor(x * SCALE);
        y = Math.min(Math.max(y, (float) RAW_MIN), (float) RAW_MAX);
        return (int) y;
    }

    /** Real value q·2^-16 of a raw fixed-point number. */
    public static float toFloat(int q) {
        return q * ULP;
    }

    /** Raw value of a long accumulator in real units (rounded to float). */
    public static float toFloat(long q) {
        return (float) (q * 0x1p-16);
    }

    // ---- arrays (vectorised, parallel for large n) ----

    /** dst[dOff + i] = Q(src[sOff + i]) for i in [0, n); src and dst may be the same range. */
    public static void quantize(float[] src, int sOff, float[] dst, int dOff, int n) {
        check(src.length, sOff, dst.length, dOff, n);
        Parallel.forElements(n, CHUNK, (from, to) -> quantizeRange(src, sOff + from, dst, dOff + from, to - from));
    }

    /** dst[dOff + i] = toFixed(src[sOff + i]). */
    public static void toFixed(float[] src, int sOff, int[] dst, int dOff, int n) {
        check(src.length, sOff, dst.length, dOff, n);
        Parallel.forElements(n, CHUNK, (from, to) -> toFixedRange(src, sOff + from, dst, dOff + from, to - from));
    }

    /** dst[dOff + i] = toFloat(src[sOff + i]). */
    public static void toFloat(int[] src, int sOff, float[] dst, int dOff, int n) {
        check(src.length, sOff, dst.length, dOff, n);
        Parallel.forElements(n, CHUNK, (from, to) -> toFloatRange(src, sOff + from, dst, dOff + from, to - from));
    }

    static void quantizeRange(float[] src, int s, float[] dst, int d, int n) {
        int i = 0;
        for (int end = n - L; i <= end; i += L) {
            FloatVector y = FloatVector.fromArray(F, src, s + i).mul(SCALE);
            floorVec(y).mul(ULP).max(MIN).min(MAX).intoArray(dst, d + i);
        }
        for (; i < n; i++) dst[d + i] = quantize(src[s + i]);
    }

    static void toFixedRange(float[] src, int s, int[] dst, int d, int n) {
        int i = 0;
        for (int end = n - L; i <= end; i += L) {
            FloatVector y = FloatVector.fromArray(F, src, s + i).mul(SCALE)
                    .max((float) RAW_MIN).min((float) RAW_MAX);
            // After the clamp every lane fits int32; trunc − (trunc > y) is floor, exact for |y| >= 2^23
            // too (those floats are integral, so the correction is 0). NaN converts to 0 as in Java.
            IntVector t = (IntVector) y.convert(VectorOperators.F2I, 0);
            FloatVector tf = (FloatVector) t.convert(VectorOperators.I2F, 0);
            VectorMask<Float> above = tf.compare(VectorOperators.GT, y);
            t = t.sub(1, above.cast(I));
            t.intoArray(dst, d + i);
        }
        for (; i < n; i++) dst[d + i] = toFixed(src[s + i]);
    }

    static void toFloatRange(int[] src, int s, float[] dst, int d, int n) {
        int i = 0;
        for (int end = n - L; i <= end; i += L) {
            IntVector q = IntVector.fromArray(I, src, s + i);
            ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(ULP).intoArray(dst, d + i);
        }
        for (; i < n; i++) dst[d + i] = toFloat(src[s + i]);
    }

    /** floor for every lane; lanes already integral (|y| >= 2^23, zero, NaN, inf) are kept. */
    static FloatVector floorVec(FloatVector y) {
        IntVector t = (IntVector) y.convert(VectorOperators.F2I, 0);
        FloatVector tf = (FloatVector) t.convert(VectorOperators.I2F, 0);
        tf = tf.sub(1f, tf.compare(VectorOperators.GT, y));
        VectorMask<Float> keep = y.abs().compare(VectorOperators.GE, INTEGRAL)
                .or(y.compare(VectorOperators.EQ, 0f))
                .or(y.test(VectorOperators.IS_NAN));
        return tf.blend(y, keep);
    }

    static void check(int srcLen, int sOff, int dstLen, int dOff, int n) {
        if (n < 0 || sOff < 0 || dOff < 0 || (long) sOff + n > srcLen || (long) dOff + n > dstLen) {
            throw new IllegalArgumentException("fixed-point range out of bounds: n=" + n + " src[" + sOff + ".."
                    + ((long) sOff + n) + ") of " + srcLen + ", dst[" + dOff + ".." + ((long) dOff + n) + ") of " + dstLen);
        }
    }
}
