package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link FixedPoint} against at every vector width: the scalar quantizers
 * of {@link FixedPoint} one element at a time, behind the same range check.
 */
public final class FixedPointReference {
    private FixedPointReference() {
    }

    /** Oracle of {@link FixedPoint#quantize(float[], int, float[], int, int)}. */
    public static void quantize(float[] src, int sOff, float[] dst, int dOff, int n) {
        FixedPoint.check(src.length, sOff, dst.length, dOff, n);
        for (int i = 0; i < n; i++) dst[dOff + i] = FixedPoint.quantize(src[sOff + i]);
    }

    /** Oracle of {@link FixedPoint#toFixed(float[], int, int[], int, int)}. */
    public static void toFixed(float[] src, int sOff, int[] dst, int dOff, int n) {
        FixedPoint.check(src.length, sOff, dst.length, dOff, n);
        for (int i = 0; i < n; i++) dst[dOff + i] = FixedPoint.toFixed(src[sOff + i]);
    }

    /** Oracle of {@link FixedPoint#toFloat(int[], int, float[], int, int)}. */
    public static void toFloat(int[] src, int sOff, float[] dst, int dOff, int n) {
        FixedPoint.check(src.length, sOff, dst.length, dOff, n);
        for (int i = 0; i < n; i++) dst[dOff + i] = FixedPoint.toFloat(src[sOff + i]);
    }
}
