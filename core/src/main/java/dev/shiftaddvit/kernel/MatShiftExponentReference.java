package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link MatShiftExponent} against at every vector width: real multiplies
 * by ±2^shift instead of adds on the exponent field.
 */
public final class MatShiftExponentReference {
    private MatShiftExponentReference() {
    }

    /**
     * Oracle of {@link MatShiftExponent#forward}: the formula of its class comment with real multiplies,
     * Q(x)·(sign·2^shift) summed in k order onto Q(b); NaN activations give NaN as float arithmetic does.
     */
    public static void forward(int m, int n, int k, byte[] sign, byte[] shift, float[] bias, float[] x, int xOff,
                               int ldx, float[] out, int outOff, int ldo) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = bias == null ? 0f : FixedPoint.quantize(bias[j]);
                for (int p = 0; p < k; p++) {
                    float wv = sign[j * k + p] * Math.scalb(1f, shift[j * k + p]);
                    acc += FixedPoint.quantize(x[xOff + i * ldx + p]) * wv;
                }
                out[outOff + i * ldo + j] = acc;
            }
        }
    }
}
