package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * fp32 GEMM in the three forms training needs. Row-major operands with offsets and leading
 * dimensions; accumulate=false overwrites C. Calls from the top level use the shared pool;
 * calls from inside a pool task (e.g. per attention head) run on that thread.
 */
public final class Gemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Gemm() {
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ — the forward form X·Wᵀ. */
    public static void nt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        Parallel.forRange(m, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                for (int j = 0; j < n; j++) {
                    int ai = aOff + i * lda;
                    int bj = bOff + j * ldb;
                    FloatVector acc = FloatVector.zero(F);
                    int p = 0;
                    for (; p <= k - F.length(); p += F.length()) {
                        acc = FloatVector.fromArray(F, a, ai + p).fma(FloatVector.fromArray(F, b, bj + p), acc);
                    }
                    float s = acc.reduceLanes(VectorOperators.ADD);
                    for (; p < k; p++) s += a[ai + p] * b[bj + p];
                    int ci = cOff + i * ldc + j;
                    c[ci] = accumulate ? c[ci] + s : s;
                }
            }
        });
    }

    /** C[m,n] (+)= A[m,k] · B[k,n] — the input-gradient form dY·W. */
    public static void nn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        Parallel.forRange(m, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                int ci = cOff + i * ldc;
                if (!accumulate) java.util.Arrays.fill(c, ci, ci + n, 0f);
                for (int p = 0; p < k; p++) {
                    axpy(n, a[aOff + i * lda + p], b, bOff + p * ldb, c, ci);
                }
            }
        });
    }

    /** C[m,n] (+)= A[k,m]ᵀ · B[k,n] — the weight-gradient form dYᵀ·X. */
    public static void tn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        Parallel.forRange(m, 4, (from, to) -> {
            for (int i = from; i < to; i++) {
                int ci = cOff + i * ldc;
                if (!accumulate) java.util.Arrays.fill(c, ci, ci + n, 0f);
                for (int p = 0; p < k; p++) {
                    axpy(n, a[aOff + p * lda + i], b, bOff + p * ldb, c, ci);
                }
            }
        });
    }

    private static void axpy(int n, float s, float[] x, int xOff, float[] y, int yOff) {
        if (s == 0f) return;
        FloatVector sv = FloatVector.broadcast(F, s);
        int j = 0;
        for (; j <= n - F.length(); j += F.length()) {
            FloatVector.fromArray(F, x, xOff + j).fma(sv, FloatVector.fromArray(F, y, yOff + j))
                    .intoArray(y, yOff + j);
        }
        for (; j < n; j++) y[yOff + j] += s * x[xOff + j];
    }
}
