package dev.shiftaddvit.kernel;

/**
 * Scalar twin of {@link MatShift}: the plain triple loop of upstream's {@code matshift}, working on
 * the unpacked [N, K] sign/shift arrays, with int32 wrap-around accumulation. Independent of the
 * packed layout, so the tests also cover {@link MatShift#pack}.
 */
public final class MatShiftReference {
    private MatShiftReference() {
    }

    /** out[i, j] = bias[j] + Σ_k sign[j, k]·(x[i, k] &gt;&gt; min(−shift[j, k], 31)), raw Q16.16 int32. */
    public static void matShift(int m, int n, int k, int[] x, int xOff, int ldx, byte[] sign, byte[] shift,
                                int[] biasFixed, int[] out, int outOff, int ldo) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int acc = biasFixed == null ? 0 : biasFixed[j];
                for (int p = 0; p < k; p++) {
                    int s = sign[j * k + p];
                    int e = shift[j * k + p];
                    if (e > 0) throw new IllegalArgumentException("shift at [" + j + ", " + p + "] is " + e + " > 0");
                    int t = x[xOff + i * ldx + p] >> Math.min(-e, MatShift.MAX_RIGHT_SHIFT);
                    if (s > 0) {
                        acc += t;
                    } else if (s < 0) {
                        acc -= t;
                    }
                }
                out[outOff + i * ldo + j] = acc;
            }
        }
    }

    /** Float value of {@link #matShift}: out·2^-16. */
    public static void matShiftToFloat(int m, int n, int k, int[] x, int xOff, int ldx, byte[] sign, byte[] shift,
                                       int[] biasFixed, float[] out, int outOff, int ldo) {
        int[] tmp = new int[n];
        for (int i = 0; i < m; i++) {
            matShift(1, n, k, x, xOff + i * ldx, ldx, sign, shift, biasFixed, tmp, 0, n);
            for (int j = 0; j < n; j++) out[outOff + i * ldo + j] = FixedPoint.toFloat(tmp[j]);
        }
    }
}
