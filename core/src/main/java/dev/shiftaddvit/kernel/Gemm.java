package dev.shiftaddvit.kernel;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fp32 GEMM in the three forms training needs. Row-major operands with offsets and leading
 * dimensions; accumulate=false overwrites C. Calls from the top level use the shared pool;
 * calls from inside a pool task (e.g. per attention head) run on that thread.
 *
 * <p>Implementation: blocked over n (NC), k (KC) and m (MC) in the Goto/BLIS order; B is packed
 * into NR-column slivers (NR = two vectors) in a thread-local buffer, the transpose of the nt form
 * being done while packing. A is read in place when it is row-major (nt, nn) and packed into
 * MR-row slivers when it is transposed (tn). An MR x NR register tile of accumulators
 * ({@link #MR} rows times two vectors) is updated with fma per k step; edge tiles are computed
 * into a scratch tile and merged. Work is split over m- or n-tiles through {@link Parallel}.
 */
public final class Gemm {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Vector length in floats. */
    static final int VL = F.length();
    /** Rows of the register tile. */
    static final int MR = 6;
    /** Columns of the register tile (two vectors). */
    static final int NR = 2 * VL;
    /** k block: one packed B sliver (KC x NR floats) stays in L1. */
    static final int KC = Integer.getInteger("shiftaddvit.gemm.kc", 256);
    /** m block: the A block (MC x KC) stays in L2; a multiple of MR. */
    static final int MC = roundUp(Integer.getInteger("shiftaddvit.gemm.mc", 144), MR);
    /** n block: the packed B block (KC x NC) stays in L3; a multiple of NR. */
    static final int NC = roundUp(Integer.getInteger("shiftaddvit.gemm.nc", 2048), NR);
    /** Below this many multiply-adds a call runs on the calling thread. */
    static final long PARALLEL_MIN_FMAS = Long.getLong("shiftaddvit.gemm.parmin", 1L << 19);
    /** Minimum multiply-adds per parallel chunk. */
    static final long CHUNK_MIN_FMAS = 1L << 18;

    private static final Logger LOG = LoggerFactory.getLogger("dev.shiftaddvit.kernel");

    static {
        LOG.info("vector species: FloatVector {} bits, {} lanes", F.vectorBitSize(), VL);
    }

    /** Per-thread reusable packing buffers. */
    private static final class Buffers {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] tile = new float[MR * NR];

        float[] a(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private Gemm() {
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ — the forward form X·Wᵀ. */
    public static void nt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(false, true, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** C[m,n] (+)= A[m,k] · B[k,n] — the input-gradient form dY·W. */
    public static void nn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(false, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** C[m,n] (+)= A[k,m]ᵀ · B[k,n] — the weight-gradient form dYᵀ·X. */
    public static void tn(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(true, false, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    private static void gemm(boolean ta, boolean tb, int m, int n, int k, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean acc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("GEMM dimensions must be >= 0, got m=" + m + " n=" + n + " k=" + k);
        }
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!acc) {
                for (int i = 0; i < m; i++) Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
            return;
        }
        long fmas = (long) m * n * k;
        int mTiles = (m + MR - 1) / MR;
        int nTiles = (n + NR - 1) / NR;
        if (fmas < PARALLEL_MIN_FMAS || Parallel.threads() == 1 || (mTiles == 1 && nTiles == 1)) {
            block(ta, tb, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc, 0, m, 0, n);
            return;
        }
        // Split over the dimension with more tiles; for the nt/nn forms an n split also avoids
        // packing the same B columns in every chunk.
        boolean splitM = mTiles > nTiles;
        int tiles = splitM ? mTiles : nTiles;
        long fmasPerTile = Math.max(1, fmas / tiles);
        int minChunk = (int) Math.max(1, Math.min(tiles, (CHUNK_MIN_FMAS + fmasPerTile - 1) / fmasPerTile));
        Parallel.forRange(tiles, minChunk, (from, to) -> {
            if (splitM) {
                block(ta, tb, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc, from * MR, Math.min(m, to * MR), 0, n);
            } else {
                block(ta, tb, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc, 0, m, from * NR, Math.min(n, to * NR));
            }
        });
    }

    /** Computes C[i0:i1, j0:j1] on the calling thread. */
    private static void block(boolean ta, boolean tb, int k, float[] a, int aOff, int lda,
                              float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean acc,
                              int i0, int i1, int j0, int j1) {
        int rows = i1 - i0;
        int cols = j1 - j0;
        int kBlocks = (k + KC - 1) / KC;
        int kcb = (k + kBlocks - 1) / kBlocks;
        int mBlocks = (rows + MC - 1) / MC;
        int mcb = roundUp((rows + mBlocks - 1) / mBlocks, MR);
        int nBlocks = (cols + NC - 1) / NC;
        int ncb = roundUp((cols + nBlocks - 1) / nBlocks, NR);
        Buffers buf = BUFFERS.get();
        float[] bp = buf.b(kcb * ncb);
        float[] ap = ta ? buf.a(kcb * mcb + VL) : null;
        float[] tile = buf.tile;
        for (int jc = j0; jc < j1; jc += ncb) {
            int nc = Math.min(ncb, j1 - jc);
            for (int pc = 0; pc < k; pc += kcb) {
                int kc = Math.min(kcb, k - pc);
                if (tb) packBT(b, bOff, ldb, pc, kc, jc, nc, bp);
                else packBN(b, bOff, ldb, pc, kc, jc, nc, bp);
                boolean add = acc || pc > 0;
                for (int ic = i0; ic < i1; ic += mcb) {
                    int mc = Math.min(mcb, i1 - ic);
                    int cBase = cOff + ic * ldc + jc;
                    if (ta) {
                        packAT(a, aOff, lda, pc, kc, ic, mc, ap);
                        macroPacked(kc, mc, nc, ap, bp, c, cBase, ldc, add, tile);
                    } else {
                        macroDirect(kc, mc, nc, a, aOff + ic * lda + pc, lda, bp, c, cBase, ldc, add, tile);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- packing

    /** Packs B(p, j) = b[bOff + p*ldb + j] (row-major [k, n]) into NR-column slivers. */
    private static void packBN(float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = jr * kc;
            int src = bOff + pc * ldb + jc + jr;
            if (nr == NR) {
                for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                    FloatVector.fromArray(F, b, src).intoArray(bp, dst);
                    FloatVector.fromArray(F, b, src + VL).intoArray(bp, dst + VL);
                }
            } else {
                for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                    int j = 0;
                    for (; j < nr; j++) bp[dst + j] = b[src + j];
                    for (; j < NR; j++) bp[dst + j] = 0f;
                }
            }
        }
    }

    /** Packs B(p, j) = b[bOff + j*ldb + p] (row-major [n, k], the nt form) into NR-column slivers. */
    private static void packBT(float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = jr * kc;
            for (int j = 0; j < nr; j++) {
                int src = bOff + (jc + jr + j) * ldb + pc;
                for (int p = 0; p < kc; p++) bp[dst + p * NR + j] = b[src + p];
            }
            for (int j = nr; j < NR; j++) {
                for (int p = 0; p < kc; p++) bp[dst + p * NR + j] = 0f;
            }
        }
    }

    /**
     * Packs A(i, p) = a[aOff + p*lda + i] (the tn form) into MR-row slivers: ap[s*kc + p*MR + r].
     * The buffer needs VL floats of slack after the last sliver (vector stores spill into the next slot).
     */
    private static void packAT(float[] a, int aOff, int lda, int pc, int kc, int ic, int mc, float[] ap) {
        for (int s = 0; s < mc; s += MR) {
            int mr = Math.min(MR, mc - s);
            int dst = s * kc;
            int src = aOff + pc * lda + ic + s;
            if (mr == MR && VL >= MR && src + (kc - 1) * lda + VL <= a.length) {
                for (int p = 0; p < kc; p++, src += lda, dst += MR) {
                    FloatVector.fromArray(F, a, src).intoArray(ap, dst);
                }
            } else {
                for (int p = 0; p < kc; p++, src += lda, dst += MR) {
                    int r = 0;
                    for (; r < mr; r++) ap[dst + r] = a[src + r];
                    for (; r < MR; r++) ap[dst + r] = 0f;
                }
            }
        }
    }

    // ---------------------------------------------------------------- macro kernels

    /** A read in place: row i of the block starts at a[aBase + i*lda]. */
    private static void macroDirect(int kc, int mc, int nc, float[] a, int aBase, int lda, float[] bp,
                                    float[] c, int cBase, int ldc, boolean add, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bi = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int r0 = aBase + ir * lda;
                if (mr == MR && nr == NR) {
                    kernelDirect(kc, a, r0, r0 + lda, r0 + 2 * lda, r0 + 3 * lda, r0 + 4 * lda, r0 + 5 * lda,
                            bp, bi, c, cBase + ir * ldc + jr, ldc, add);
                } else {
                    // Missing rows repeat the last valid row; their results are discarded.
                    int last = mr - 1;
                    kernelDirect(kc, a, r0, r0 + Math.min(1, last) * lda, r0 + Math.min(2, last) * lda,
                            r0 + Math.min(3, last) * lda, r0 + Math.min(4, last) * lda,
                            r0 + Math.min(5, last) * lda, bp, bi, tile, 0, NR, false);
                    merge(tile, mr, nr, c, cBase + ir * ldc + jr, ldc, add);
                }
            }
        }
    }

    /** A packed into MR-row slivers. */
    private static void macroPacked(int kc, int mc, int nc, float[] ap, float[] bp,
                                    float[] c, int cBase, int ldc, boolean add, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bi = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int ai = ir * kc;
                if (mr == MR && nr == NR) {
                    kernelPacked(kc, ap, ai, bp, bi, c, cBase + ir * ldc + jr, ldc, add);
                } else {
                    kernelPacked(kc, ap, ai, bp, bi, tile, 0, NR, false);
                    merge(tile, mr, nr, c, cBase + ir * ldc + jr, ldc, add);
                }
            }
        }
    }

    private static void merge(float[] tile, int mr, int nr, float[] c, int ci, int ldc, boolean add) {
        for (int r = 0; r < mr; r++, ci += ldc) {
            int t = r * NR;
            if (add) {
                for (int j = 0; j < nr; j++) c[ci + j] += tile[t + j];
            } else {
                System.arraycopy(tile, t, c, ci, nr);
            }
        }
    }

    // ---------------------------------------------------------------- micro kernels

    /** 6 x (2 vectors) tile; A rows read in place at a0..a5 (+p), B packed at bp[bi + p*NR]. */
    private static void kernelDirect(int kc, float[] a, int a0, int a1, int a2, int a3, int a4, int a5,
                                     float[] bp, int bi, float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bj = bi + p * NR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bj);
            FloatVector b1 = FloatVector.fromArray(F, bp, bj + VL);
            FloatVector x = FloatVector.broadcast(F, a[a0 + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, a[a1 + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, a[a2 + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, a[a3 + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, a[a4 + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, a[a5 + p]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        int i0 = ci, i1 = ci + ldc, i2 = ci + 2 * ldc, i3 = ci + 3 * ldc, i4 = ci + 4 * ldc, i5 = ci + 5 * ldc;
        if (add) {
            c00 = c00.add(FloatVector.fromArray(F, c, i0));
            c01 = c01.add(FloatVector.fromArray(F, c, i0 + VL));
            c10 = c10.add(FloatVector.fromArray(F, c, i1));
            c11 = c11.add(FloatVector.fromArray(F, c, i1 + VL));
            c20 = c20.add(FloatVector.fromArray(F, c, i2));
            c21 = c21.add(FloatVector.fromArray(F, c, i2 + VL));
            c30 = c30.add(FloatVector.fromArray(F, c, i3));
            c31 = c31.add(FloatVector.fromArray(F, c, i3 + VL));
            c40 = c40.add(FloatVector.fromArray(F, c, i4));
            c41 = c41.add(FloatVector.fromArray(F, c, i4 + VL));
            c50 = c50.add(FloatVector.fromArray(F, c, i5));
            c51 = c51.add(FloatVector.fromArray(F, c, i5 + VL));
        }
        c00.intoArray(c, i0);
        c01.intoArray(c, i0 + VL);
        c10.intoArray(c, i1);
        c11.intoArray(c, i1 + VL);
        c20.intoArray(c, i2);
        c21.intoArray(c, i2 + VL);
        c30.intoArray(c, i3);
        c31.intoArray(c, i3 + VL);
        c40.intoArray(c, i4);
        c41.intoArray(c, i4 + VL);
        c50.intoArray(c, i5);
        c51.intoArray(c, i5 + VL);
    
    }

    /** 6 x (2 vectors) tile; A packed at ap[ai + p*MR + r], B packed at bp[bi + p*NR]. */
    private static void kernelPacked(int kc, float[] ap, int ai, float[] bp, int bi,
                                     float[] c, int ci, int ldc, boolean add) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c40 = FloatVector.zero(F), c41 = FloatVector.zero(F);
        FloatVector c50 = FloatVector.zero(F), c51 = FloatVector.zero(F);
        for (int p = 0; p < kc; p++) {
            int bj = bi + p * NR;
            int aj = ai + p * MR;
            FloatVector b0 = FloatVector.fromArray(F, bp, bj);
            FloatVector b1 = FloatVector.fromArray(F, bp, bj + VL);
            FloatVector x = FloatVector.broadcast(F, ap[aj]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(F, ap[aj + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(F, ap[aj + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(F, ap[aj + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(F, ap[aj + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(F, ap[aj + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        int i0 = ci, i1 = ci + ldc, i2 = ci + 2 * ldc, i3 = ci + 3 * ldc, i4 = ci + 4 * ldc, i5 = ci + 5 * ldc;
        if (add) {
            c00 = c00.add(FloatVector.fromArray(F, c, i0));
            c01 = c01.add(FloatVector.fromArray(F, c, i0 + VL));
            c10 = c10.add(FloatVector.fromArray(F, c, i1));
            c11 = c11.add(FloatVector.fromArray(F, c, i1 + VL));
            c20 = c20.add(FloatVector.fromArray(F, c, i2));
            c21 = c21.add(FloatVector.fromArray(F, c, i2 + VL));
            c30 = c30.add(FloatVector.fromArray(F, c, i3));
            c31 = c31.add(FloatVector.fromArray(F, c, i3 + VL));
            c40 = c40.add(FloatVector.fromArray(F, c, i4));
            c41 = c41.add(FloatVector.fromArray(F, c, i4 + VL));
            c50 = c50.add(FloatVector.fromArray(F, c, i5));
            c51 = c51.add(FloatVector.fromArray(F, c, i5 + VL));
        }
        c00.intoArray(c, i0);
        c01.intoArray(c, i0 + VL);
        c10.intoArray(c, i1);
        c11.intoArray(c, i1 + VL);
        c20.intoArray(c, i2);
        c21.intoArray(c, i2 + VL);
        c30.intoArray(c, i3);
        c31.intoArray(c, i3 + VL);
        c40.intoArray(c, i4);
        c41.intoArray(c, i4 + VL);
        c50.intoArray(c, i5);
        c51.intoArray(c, i5 + VL);
    
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
