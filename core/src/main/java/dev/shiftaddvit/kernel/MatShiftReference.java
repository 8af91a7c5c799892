package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link MatShift} against at every vector width: the plain triple
 * loop of upstream's {@code matshift}, working on the unpacked [N, K] sign/shift arrays, with int32
 * wrap-around accumulation. Independent of the packed layout, so the tests also cover
 * {@link MatShift#pack}.
 */
public final class MatShiftReference {
    private MatShiftReference() {
    }

    /**
     * out[i, j] = bias[j] + Σ_k sign[j, k]·round(x[i, k]·2^shift[j, k]), raw Q16.16 int32, each term rounded
     * to nearest with ties toward +∞ as (x + 2^(s−1)) &gt;&gt; s for s = −shift ∈ [1, 31] (int32 add, wraps
     * like {@link MatShift}), x itself for s = 0 and 0 for s &gt; 31.
     */
    public static void matShift(int m, int n, int k, int[] x, int xOff, int ldx, byte[] sign, byte[] shift,
                                int[] biasFixed, int[] out, int outOff, int ldo) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int acc = biasFixed == null ? 0 : biasFixed[j];
                for (int p = 0; p < k; p++) {
                    int s = sign[j * k + p];
                    int e = shift[j * k + p];
                    if (e > 0) throw new IllegalArgumentException("shift at [" + j + ", " + p + "] is " + e + " > 0");
                    int t = roundShift(x[xOff + i * ldx + p], -e);
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

    /** x·2^-s rounded to nearest, ties toward +∞, for a right shift s ≥ 0 (0 beyond 31). */
    static int roundShift(int x, int s) {
        if (s == 0) return x;
        if (s > MatShift.MAX_RIGHT_SHIFT) return 0;
        return (x + (1 << (s - 1))) >> s;
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
