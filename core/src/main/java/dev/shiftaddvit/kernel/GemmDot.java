package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C[m,n] (+)= A[m,k]·B[n,k]ᵀ for a few rows of A (a classifier head at batch 1, the last PVT stages at
 * batch 1): dot products along k with both operands read in place. The packed GEMM moves all of B into
 * slivers on every call, n·k scalar copies, which for m rows costs about as much as m/8 of its vector
 * arithmetic; below {@link Gemm#DOT_MAX_M} rows that packing outweighs what the register tile saves.
 *
 * <p>Tile: 2 rows × 4 columns, 8 vector accumulators of partial sums along k, each reduced once at the
 * end; leftover rows and columns use 1 × 4 and 1 × 1 tiles. Column blocks are split over
 * {@link Parallel}.
 */
final class GemmDot {
    private static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int VL = F.length();
    /** Columns per tile. */
    private static final int NB = 4;

    private GemmDot() {
    }

    static void nt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c,
                   int cOff, int ldc, boolean acc) {
        long fmas = (long) m * n * k;
        int blocks = (n + NB - 1) / NB;
        if (Parallel.threads() == 1 || fmas < Gemm.PARALLEL_MIN_FMAS || blocks == 1 || Parallel.inParallelWork()) {
            columns(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc, 0, n);
            return;
        }
        long perBlock = Math.max(1, fmas / blocks);
        int minChunk = (int) Math.max(1, Math.min(blocks, Gemm.CHUNK_MIN_FMAS / perBlock));
        Parallel.forRange(blocks, minChunk, (from, to) -> columns(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc,
                acc, from * NB, Math.min(n, to * NB)));
    }

    private static void columns(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                float[] c, int cOff, int ldc, boolean acc, int j0, int j1) {
        int full = j0 + (j1 - j0) / NB * NB;
        for (int j = j0; j < full; j += NB) {
            int i = 0;
            for (; i + 2 <= m; i += 2) {
                tile2x4(k, a, aOff + i * lda, lda, b, bOff + j * ldb, ldb, c, cOff + i * ldc + j, ldc, acc);
            }
            if (i < m) tile1x4(k, a, aOff + i * lda, b, bOff + j * ldb, ldb, c, cOff + i * ldc + j, acc);
        }
        for (int j = full; j < j1; j++) {
            for (int i = 0; i < m; i++) {
                float d = dot(k, a, aOff + i * lda, b, bOff + j * ldb);
                int ci = cOff + i * ldc + j;
                c[ci] = acc ? c[ci] + d : d;
            }
        }
    }

    private static void tile2x4(int k, float[] a, int a0, int lda, float[] b, int b0, int ldb, float[] c, int c0,
                                int ldc, boolean acc) {
        int a1 = a0 + lda;
        int b1 = b0 + ldb, b2 = b0 + 2 * ldb, b3 = b0 + 3 * ldb;
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
        FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        int p = 0;
        for (; p <= k - VL; p += VL) {
            FloatVector x0 = FloatVector.fromArray(F, a, a0 + p);
            FloatVector x1 = FloatVector.fromArray(F, a, a1 + p);
            FloatVector w = FloatVector.fromArray(F, b, b0 + p);
            s00 = x0.fma(w, s00);
            s10 = x1.fma(w, s10);
            w = FloatVector.fromArray(F, b, b1 + p);
            s01 = x0.fma(w, s01);
            s11 = x1.fma(w, s11);
            w = FloatVector.fromArray(F, b, b2 + p);
            s02 = x0.fma(w, s02);
            s12 = x1.fma(w, s12);
            w = FloatVector.fromArray(F, b, b3 + p);
            s03 = x0.fma(w, s03);
            s13 = x1.fma(w, s13);
        }
        FloatVector t0 = LaneSum.sum4(s00, s01, s02, s03);
        FloatVector t1 = LaneSum.sum4(s10, s11, s12, s13);
        float r00 = t0.lane(0), r01 = t0.lane(LaneSum.LANE_B), r02 = t0.lane(LaneSum.LANE_C), r03 = t0.lane(LaneSum.LANE_D);
        float r10 = t1.lane(0), r11 = t1.lane(LaneSum.LANE_B), r12 = t1.lane(LaneSum.LANE_C), r13 = t1.lane(LaneSum.LANE_D);
        for (; p < k; p++) {
            float x0 = a[a0 + p];
            float x1 = a[a1 + p];
            r00 = Math.fma(x0, b[b0 + p], r00);
            r01 = Math.fma(x0, b[b1 + p], r01);
            r02 = Math.fma(x0, b[b2 + p], r02);
            r03 = Math.fma(x0, b[b3 + p], r03);
            r10 = Math.fma(x1, b[b0 + p], r10);
            r11 = Math.fma(x1, b[b1 + p], r11);
            r12 = Math.fma(x1, b[b2 + p], r12);
            r13 = Math.fma(x1, b[b3 + p], r13);
        }
        store(c, c0, acc, r00, r01, r02, r03);
        store(c, c0 + ldc, acc, r10, r11, r12, r13);
    }

    private static void tile1x4(int k, float[] a, int a0, float[] b, int b0, int ldb, float[] c, int c0, boolean acc) {
        int b1 = b0 + ldb, b2 = b0 + 2 * ldb, b3 = b0 + 3 * ldb;
        FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p <= k - VL; p += VL) {
            FloatVector x = FloatVector.fromArray(F, a, a0 + p);
            s0 = x.fma(FloatVector.fromArray(F, b, b0 + p), s0);
            s1 = x.fma(FloatVector.fromArray(F, b, b1 + p), s1);
            s2 = x.fma(FloatVector.fromArray(F, b, b2 + p), s2);
            s3 = x.fma(FloatVector.fromArray(F, b, b3 + p), s3);
        }
        FloatVector t = LaneSum.sum4(s0, s1, s2, s3);
        float r0 = t.lane(0), r1 = t.lane(LaneSum.LANE_B), r2 = t.lane(LaneSum.LANE_C), r3 = t.lane(LaneSum.LANE_D);
        for (; p < k; p++) {
            float x = a[a0 + p];
            r0 = Math.fma(x, b[b0 + p], r0);
            r1 = Math.fma(x, b[b1 + p], r1);
            r2 = Math.fma(x, b[b2 + p], r2);
            r3 = Math.fma(x, b[b3 + p], r3);
        }
        store(c, c0, acc, r0, r1, r2, r3);
    }

    private static float dot(int k, float[] a, int a0, float[] b, int b0) {
        FloatVector s = FloatVector.zero(F);
        int p = 0;
        for (; p <= k - VL; p += VL) s = FloatVector.fromArray(F, a, a0 + p).fma(FloatVector.fromArray(F, b, b0 + p), s);
        float r = LaneSum.sum(s);
        for (; p < k; p++) r = Math.fma(a[a0 + p], b[b0 + p], r);
        return r;
    }

    private static void store(float[] c, int c0, boolean acc, float r0, float r1, float r2, float r3) {
        if (acc) {
            c[c0] += r0;
            c[c0 + 1] += r1;
            c[c0 + 2] += r2;
            c[c0 + 3] += r3;
        } else {
            c[c0] = r0;
            c[c0 + 1] = r1;
            c[c0 + 2] = r2;
            c[c0 + 3] = r3;
        }
    }
}
