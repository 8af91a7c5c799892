package dev.shiftaddvit.kernel;

/** Scalar oracle of {@link FlashAttention}: each row's scores in full, a plain softmax, then the weighted sum of V. */
public final class FlashAttentionReference {
    private FlashAttentionReference() {
    }

    /** As {@link FlashAttention#rows}. */
    public static void rows(int r0, int r1, int m, int d, float scale, float[] q, int qOff, int ldq,
                            float[] k, int kOff, int ldk, float[] v, int vOff, int ldv,
                            float[] out, int oOff, int ldo) {
        float[] p = new float[m];
        for (int i = r0; i < r1; i++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < m; j++) {
                float dot = 0f;
                for (int c = 0; c < d; c++) dot += q[qOff + i * ldq + c] * k[kOff + j * ldk + c];
                p[j] = scale * dot;
                max = Math.max(max, p[j]);
            }
            float sum = 0f;
            for (int j = 0; j < m; j++) {
                p[j] = (float) Math.exp(p[j] - max);
                sum += p[j];
            }
            for (int c = 0; c < d; c++) {
                float acc = 0f;
                for (int j = 0; j < m; j++) acc += p[j] * v[vOff + j * ldv + c];
                out[oOff + i * ldo + c] = acc / sum;
            }
        }
    }
}
