package dev.shiftaddvit.kernel;

/**
 * The scalar oracle the tests compare {@link Gemm} against at every vector width: a plain triple loop.
 * Same signatures as {@link Gemm}.
 * Row-major operands with explicit offsets and leading dimensions; accumulate=false overwrites C.
 */
public final class GemmReference {
    private GemmReference() {
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ — the forward form X·Wᵀ. */
    public static void nt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * b[bOff + j * ldb + p];
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /** C[m,n] (+)= A[m,k] · B[k,n] — the input-gradient form dY·W. */
    public static void nn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * b[bOff + p * ldb + j];
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /** C[m,n] (+)= A[k,m]ᵀ · B[k,n] — the weight-gradient form dYᵀ·X. */
    public static void tn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + p * lda + i] * b[bOff + p * ldb + j];
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }
}
