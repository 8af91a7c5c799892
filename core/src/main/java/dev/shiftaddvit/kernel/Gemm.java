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
 * <p>Implementation (Goto/BLIS style): B is packed into NR-column slivers (NR = two vectors,
 * p-major inside a sliver), the transpose of the nt form being done while packing. A is read in
 * place when it is row-major (nt, nn) and packed into MR-row slivers (p-major, vector copies) when
 * it is transposed (tn). The micro-kernel keeps an MR x NR tile of accumulators
 * in registers and updates it with one broadcast and two fma per row and k step; edge tiles go
 * through a scratch tile. Loops are blocked over n (NC), k (KC) and m (MC) so that a B sliver
 * stays in L1 and the A block in L2.
 *
 * <p>Parallel schedules (through {@link Parallel}: the caller plus its persistent helpers):
 * <b>column split</b> for nt/nn with enough
 * n-tiles, each chunk packing only its own B columns (one fork-join, no duplicated work);
 * otherwise <b>shared packing</b>: B (and A for tn) are packed once over the full k, in
 * parallel, into the caller's buffers, then m- or n-tiles are split over the pool. Packing
 * buffers are thread-local and reused, so steady-state calls do not allocate them.
 */
public final class Gemm {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    /** Vector length in floats. */
    static final int VL = F.length();
    /**
     * Rows of the register tile: 4 for vectors up to 256 bits (see the micro-kernel notes for why),
     * 8 at 512 bits, where 32 registers hold the taller tile ({@link GemmTile8});
     * {@code -Dshiftaddvit.gemm.mr=4|8} picks one for measurements.
     */
    static final int MR = tileRows(Integer.getInteger("shiftaddvit.gemm.mr", VL >= 16 ? 8 : 4));
    /** Exactly MR lanes, for packing A slivers of the tn form. */
    private static final VectorSpecies<Float> FMR = MR == 8 ? FloatVector.SPECIES_256 : FloatVector.SPECIES_128;
    /** Columns of the register tile (two vectors). */
    static final int NR = 2 * VL;
    /** k block: one packed B sliver (KC x NR floats) stays in L1. */
    static final int KC = Integer.getInteger("shiftaddvit.gemm.kc", 256);
    /** m block: the A block (MC x KC) stays in L2; a multiple of MR. */
    static final int MC = roundUp(Integer.getInteger("shiftaddvit.gemm.mc", 144), MR);
    /** n block: the B block (KC x NC) stays in L3; a multiple of NR. */
    static final int NC = roundUp(Integer.getInteger("shiftaddvit.gemm.nc", 2048), NR);
    /**
     * Row-major A (nt, nn) is packed into MR-row slivers and run through the packed kernel when each
     * chunk's rows are its own and meet at least this many B slivers; the packed kernel's broadcasts
     * read one contiguous line per k step instead of MR rows. Column-split chunks read all of A, so
     * they would each pack it again: they read it in place. Measured faster with the 8-row tile; the
     * 4-row tile reads A in place unless {@code -Dshiftaddvit.gemm.packa=N} asks (0 never packs).
     */
    static final int PACK_A_MIN_SLIVERS = Integer.getInteger("shiftaddvit.gemm.packa", MR == 8 ? 4 : 0);
    /** Below this many multiply-adds a call runs on the calling thread. */
    static final long PARALLEL_MIN_FMAS = Long.getLong("shiftaddvit.gemm.parmin", 1L << 20);
    /** Minimum multiply-adds per parallel chunk. */
    static final long CHUNK_MIN_FMAS = 1L << 18;
    /** Largest A (floats) for the column-split schedule, which reads A once per chunk. */
    static final long COLUMNS_MAX_A = 1L << 18;
    /** Largest fully packed operand (floats) for the shared-packing schedule. */
    static final long SHARED_MAX = 1L << 23;
    /** Up to this many rows, nt runs as dot products without packing ({@link GemmDot}). */
    public static final int DOT_MAX_M = Integer.getInteger("shiftaddvit.gemm.dotm", 32);
    /** Schedule override for tuning and tests: "auto", "columns" or "shared". */
    static volatile String schedule = System.getProperty("shiftaddvit.gemm.schedule", "auto");

    private static final Logger LOG = LoggerFactory.getLogger("dev.shiftaddvit.kernel");

    static {
        LOG.debug("vector width: {}", VectorWidth.describe());
    }

    /** Per-thread reusable packing buffers. */
    private static final class Buffers {
        float[] a = new float[0];
        float[] b = new float[0];
        float[] sharedA = new float[0];
        float[] sharedB = new float[0];
        final float[] tile = new float[MR * NR];

        float[] a(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        float[] b(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }

        float[] sharedA(int size) {
            if (sharedA.length < size) sharedA = new float[size];
            return sharedA;
        }

        float[] sharedB(int size) {
            if (sharedB.length < size) sharedB = new float[size];
            return sharedB;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private Gemm() {
    }

    /** C[m,n] (+)= A[m,k] · B[n,k]ᵀ — the forward form X·Wᵀ. */
    public static void nt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc, boolean accumulate) {
        ntBlock(m, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /**
     * {@link #nt} for a block of rows of a larger product of {@code wholeRows} rows: the dot path
     * (up to {@link #DOT_MAX_M} rows) and the packed kernel sum along k in different orders, so the
     * path is chosen by the whole product, and a row gets the same bits however the caller cuts
     * the rows into blocks (attention cuts by thread count).
     */
    public static void ntBlock(int wholeRows, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
                               int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        if (m > 0 && n > 0 && k > 0 && wholeRows <= DOT_MAX_M) {
            GemmDot.nt(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            return;
        }
        gemm(false, true, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /**
     * The B operand of the nt form (a weight [n, k]) packed once, over the full k, into the
     * micro-kernel's NR-column slivers ({@code data}), for the calls that reuse it (inference: ONNX
     * Runtime packs at session creation); {@code source} at {@code sourceOff} with row stride
     * {@code ldb} is the weight itself, for the dot path of short products. Made by {@link #packNt};
     * a product through it has the bits of {@link #nt} on the source: the k blocks are the same.
     */
    public record PackedB(int n, int k, float[] data, float[] source, int sourceOff, int ldb) {
        public PackedB {
            if (data.length != (n + NR - 1) / NR * NR * k) {
                throw new IllegalArgumentException("packed B of " + n + "x" + k + " holds " + data.length + " floats");
            }
        }
    }

    /** Packs B [n, k] (row-major at b[bOff + j*ldb + p]) for {@link #nt(int, PackedB, float[], int, int, float[], int, int, boolean)}. */
    public static PackedB packNt(int n, int k, float[] b, int bOff, int ldb) {
        if (n < 1 || k < 1) throw new IllegalArgumentException("packed B needs n, k >= 1, got n=" + n + " k=" + k);
        int nTiles = (n + NR - 1) / NR;
        float[] bp = new float[Math.multiplyExact(nTiles * NR, k)];
        Parallel.forRange(nTiles, Math.max(1, nTiles / (2 * Parallel.threads())), (from, to) ->
                packBT(b, bOff, ldb, 0, k, from * NR, Math.min(n, to * NR) - from * NR, bp, from * NR * k));
        return new PackedB(n, k, bp, b, bOff, ldb);
    }

    /** C[m,n] (+)= A[m,k] · Bᵀ with B packed by {@link #packNt}: the nt form without packing B again. */
    public static void nt(int m, PackedB b, float[] a, int aOff, int lda, float[] c, int cOff, int ldc,
                          boolean accumulate) {
        int n = b.n();
        int k = b.k();
        if (m < 0) throw new IllegalArgumentException("GEMM dimensions must be >= 0, got m=" + m);
        if (m == 0) return;
        if (m <= DOT_MAX_M) {
            GemmDot.nt(m, n, k, a, aOff, lda, b.source(), b.sourceOff(), b.ldb(), c, cOff, ldc, accumulate);
            return;
        }
        int nTiles = (n + NR - 1) / NR;
        long fmas = (long) m * n * k;
        if (!worthSplitting(fmas, (m + MR - 1) / MR, nTiles)) {
            prepacked(false, k, a, aOff, lda, null, b.data(), c, cOff, ldc, accumulate, 0, m, 0, n, packA(nTiles));
            return;
        }
        splitPrepacked(false, m, n, k, a, aOff, lda, null, b.data(), c, cOff, ldc, accumulate);
    }

    /**
     * {@link #nt(int, PackedB, float[], int, int, float[], int, int, boolean)} for a block of rows of a
     * larger product of {@code wholeRows} rows, on the calling thread: the path is chosen by the whole
     * product, so a row gets the bits it gets there (for callers that run a layer per row block).
     */
    public static void ntBlock(int wholeRows, int m, PackedB b, float[] a, int aOff, int lda, float[] c, int cOff,
                               int ldc, boolean accumulate) {
        if (m < 0) throw new IllegalArgumentException("GEMM dimensions must be >= 0, got m=" + m);
        if (m == 0) return;
        int n = b.n();
        if (wholeRows <= DOT_MAX_M) {
            GemmDot.nt(m, n, b.k(), a, aOff, lda, b.source(), b.sourceOff(), b.ldb(), c, cOff, ldc, accumulate);
            return;
        }
        prepacked(false, b.k(), a, aOff, lda, null, b.data(), c, cOff, ldc, accumulate, 0, m, 0, n,
                packA((n + NR - 1) / NR));
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
        int threads = Parallel.threads();
        boolean parallel = worthSplitting(fmas, mTiles, nTiles);
        long packedB = (long) nTiles * NR * k;
        long packedA = (long) mTiles * MR * k;
        boolean shared = packedB <= SHARED_MAX && (!ta || packedA <= SHARED_MAX);
        // Column split: one fork-join and no duplicated packing, but every chunk streams all of A,
        // so it is used only while A is small enough to stay in cache.
        boolean columns = !ta && nTiles >= 3 * threads && (long) m * k <= COLUMNS_MAX_A;
        String sched = schedule;
        if (sched.equals("columns")) columns = !ta;
        else if (sched.equals("shared")) columns = false;
        if (!parallel || (columns || !shared)) {
            // Column split (or serial): each chunk packs its own blocks of B (and A for tn).
            if (!parallel) {
                blocked(ta, tb, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc, 0, m, 0, n, !ta && packA(nTiles));
                return;
            }
            boolean splitM = !columns && mTiles >= nTiles;
            int tiles = splitM ? mTiles : nTiles;
            int minChunk = minChunk(fmas, tiles);
            Parallel.forRange(tiles, minChunk, (from, to) -> {
                if (splitM) {
                    blocked(ta, tb, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc,
                            from * MR, Math.min(m, to * MR), 0, n, !ta && packA(nTiles));
                } else {
                    blocked(ta, tb, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc,
                            0, m, from * NR, Math.min(n, to * NR), false);
                }
            });
            return;
        }
        // Shared packing: pack B (and A for tn) once over the full k, then split the tiles.
        Buffers buf = BUFFERS.get();
        float[] bp = buf.sharedB((int) packedB);
        float[] ap = ta ? buf.sharedA((int) packedA) : null;
        int packTasks = nTiles + (ta ? mTiles : 0);
        Parallel.forRange(packTasks, Math.max(1, packTasks / (2 * threads)), (from, to) -> {
            int bTo = Math.min(to, nTiles);
            if (from < bTo) {
                if (tb) packBT(b, bOff, ldb, 0, k, from * NR, Math.min(n, bTo * NR) - from * NR, bp, from * NR * k);
                else packBN(b, bOff, ldb, 0, k, from * NR, Math.min(n, bTo * NR) - from * NR, bp, from * NR * k);
            }
            int aFrom = Math.max(from, nTiles) - nTiles;
            int aTo = to - nTiles;
            if (aFrom < aTo) {
                int i0 = aFrom * MR;
                packAT(a, aOff, lda, 0, k, i0, Math.min(m, aTo * MR) - i0, ap, i0 * k);
            }
        });
        splitPrepacked(ta, m, n, k, a, aOff, lda, ap, bp, c, cOff, ldc, acc);
    }

    /**
     * Splits the tiles of a product whose B (and A for tn) is packed over the full k: by rows when
     * there are enough of them, then each chunk may pack its own rows of A; else by columns, reading A
     * in place (every chunk reads all of it).
     */
    private static void splitPrepacked(boolean ta, int m, int n, int k, float[] a, int aOff, int lda, float[] ap,
                                       float[] bp, float[] c, int cOff, int ldc, boolean acc) {
        int mTiles = (m + MR - 1) / MR;
        int nTiles = (n + NR - 1) / NR;
        boolean splitM = mTiles >= nTiles || mTiles >= 4 * Parallel.threads();
        int tiles = splitM ? mTiles : nTiles;
        Parallel.forRange(tiles, minChunk((long) m * n * k, tiles), (from, to) -> {
            if (splitM) {
                prepacked(ta, k, a, aOff, lda, ap, bp, c, cOff, ldc, acc, from * MR, Math.min(m, to * MR), 0, n,
                        !ta && packA(nTiles));
            } else {
                prepacked(ta, k, a, aOff, lda, ap, bp, c, cOff, ldc, acc, 0, m, from * NR, Math.min(n, to * NR),
                        false);
            }
        });
    }

    /** Whether a product is large enough, and the caller free, to split over the pool. */
    private static boolean worthSplitting(long fmas, int mTiles, int nTiles) {
        return Parallel.threads() > 1 && fmas >= PARALLEL_MIN_FMAS && mTiles * nTiles > 1 && !Parallel.inParallelWork();
    }

    private static boolean packA(int nTiles) {
        return PACK_A_MIN_SLIVERS > 0 && nTiles >= PACK_A_MIN_SLIVERS;
    }

    private static int minChunk(long fmas, int tiles) {
        long perTile = Math.max(1, fmas / tiles);
        return (int) Math.max(1, Math.min(tiles, (CHUNK_MIN_FMAS + perTile - 1) / perTile));
    }

    /** Computes C[i0:i1, j0:j1] on the calling thread, packing its own blocks. */
    private static void blocked(boolean ta, boolean tb, int k, float[] a, int aOff, int lda,
                                float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean acc,
                                int i0, int i1, int j0, int j1, boolean packA) {
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
        float[] ap = ta ? buf.a(kcb * mcb) : null;
        float[] tile = buf.tile;
        for (int jc = j0; jc < j1; jc += ncb) {
            int nc = Math.min(ncb, j1 - jc);
            for (int pc = 0; pc < k; pc += kcb) {
                int kc = Math.min(kcb, k - pc);
                if (tb) packBT(b, bOff, ldb, pc, kc, jc, nc, bp, 0);
                else packBN(b, bOff, ldb, pc, kc, jc, nc, bp, 0);
                boolean add = acc || pc > 0;
                for (int ic = i0; ic < i1; ic += mcb) {
                    int mc = Math.min(mcb, i1 - ic);
                    int cBase = cOff + ic * ldc + jc;
                    if (ta) {
                        packAT(a, aOff, lda, pc, kc, ic, mc, ap, 0);
                        macroPacked(kc, mc, nc, ap, 0, kc * MR, bp, 0, kc * NR, c, cBase, ldc, add, tile);
                    } else if (packA) {
                        float[] an = buf.a(kcb * mcb);
                        packAN(a, aOff, lda, pc, kc, ic, mc, an);
                        macroPacked(kc, mc, nc, an, 0, kc * MR, bp, 0, kc * NR, c, cBase, ldc, add, tile);
                    } else {
                        macroDirect(kc, mc, nc, a, aOff + ic * lda + pc, lda, bp, 0, kc * NR, c, cBase, ldc, add, tile);
                    }
                }
            }
        }
    }

    /**
     * Computes C[i0:i1, j0:j1] from B packed over the full k (j0 % NR == 0); A is read in place,
     * or for tn from ap, packed over the full k into MR-row slivers (i0 % MR == 0).
     */
    private static void prepacked(boolean ta, int k, float[] a, int aOff, int lda, float[] ap, float[] bp,
                                  float[] c, int cOff, int ldc, boolean acc, int i0, int i1, int j0, int j1,
                                  boolean packA) {
        int rows = i1 - i0;
        int kBlocks = (k + KC - 1) / KC;
        int kcb = (k + kBlocks - 1) / kBlocks;
        int mBlocks = (rows + MC - 1) / MC;
        int mcb = roundUp((rows + mBlocks - 1) / mBlocks, MR);
        float[] tile = BUFFERS.get().tile;
        int aStride = k * MR;
        int bStride = k * NR;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kcb) {
                int kc = Math.min(kcb, k - pc);
                boolean add = acc || pc > 0;
                int bBase = (jc / NR) * bStride + pc * NR;
                for (int ic = i0; ic < i1; ic += mcb) {
                    int mc = Math.min(mcb, i1 - ic);
                    int cBase = cOff + ic * ldc + jc;
                    if (ta) {
                        macroPacked(kc, mc, nc, ap, (ic / MR) * aStride + pc * MR, aStride, bp, bBase, bStride,
                                c, cBase, ldc, add, tile);
                    } else if (packA) {
                        float[] an = BUFFERS.get().a(kcb * mcb);
                        packAN(a, aOff, lda, pc, kc, ic, mc, an);
                        macroPacked(kc, mc, nc, an, 0, kc * MR, bp, bBase, bStride, c, cBase, ldc, add, tile);
                    } else {
                        macroDirect(kc, mc, nc, a, aOff + ic * lda + pc, lda, bp, bBase, bStride,
                                c, cBase, ldc, add, tile);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- packing

    /**
     * Packs B(p, j) = b[bOff + p*ldb + j] (row-major [k, n]) for p in [pc, pc+kc), j in [jc, jc+nc)
     * into NR-column slivers: bp[dst + t*kc*NR + p*NR + col], zero-padded to whole slivers.
     */
    static void packBN(float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp, int dst0) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = dst0 + jr * kc;
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

    /** As {@link #packBN} for B(p, j) = b[bOff + j*ldb + p] (row-major [n, k], the nt form). */
    static void packBT(float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp, int dst0) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = dst0 + jr * kc;
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
     * Packs A(i, p) = a[aOff + p*lda + i] (the tn form) for i in [ic, ic+mc), p in [pc, pc+kc) into
     * MR-row slivers, p-major: ap[dst0 + s*kc*MR + p*MR + r], zero-padded. Rows of Aᵀ are read
     * contiguously, MR floats at a time with a vector of exactly MR lanes (the 128-bit species,
     * whatever the engine's width), so no store spills past its step.
     */
    private static void packAT(float[] a, int aOff, int lda, int pc, int kc, int ic, int mc, float[] ap, int dst0) {
        int full = mc / MR;
        int sliver = kc * MR;
        int mr = mc - full * MR;
        for (int p = 0; p < kc; p++) {
            int src = aOff + (pc + p) * lda + ic;
            int dst = dst0 + p * MR;
            for (int s = 0; s < full; s++) {
                FloatVector.fromArray(FMR, a, src + s * MR).intoArray(ap, dst + s * sliver);
            }
            if (mr > 0) {
                int si = src + full * MR;
                int di = dst + full * sliver;
                int r = 0;
                for (; r < mr; r++) ap[di + r] = a[si + r];
                for (; r < MR; r++) ap[di + r] = 0f;
            }
        }
    }

    /** Packs row-major A(i, p) = a[aOff + i*lda + p] like {@link #packAT}: MR-row slivers, p-major, zero-padded. */
    private static void packAN(float[] a, int aOff, int lda, int pc, int kc, int ic, int mc, float[] ap) {
        int sliver = kc * MR;
        for (int s0 = 0; s0 < mc; s0 += MR) {
            int dst = (s0 / MR) * sliver;
            for (int r = 0; r < MR; r++) {
                if (s0 + r < mc) {
                    int src = aOff + (ic + s0 + r) * lda + pc;
                    for (int p = 0; p < kc; p++) ap[dst + p * MR + r] = a[src + p];
                } else {
                    for (int p = 0; p < kc; p++) ap[dst + p * MR + r] = 0f;
                }
            }
        }
    }

    // ---------------------------------------------------------------- macro kernels

    /**
     * A read in place (row i of the block at a[aBase + i*lda]); B sliver t of the block at
     * bp[bBase + t*bStride].
     */
    private static void macroDirect(int kc, int mc, int nc, float[] a, int aBase, int lda, float[] bp, int bBase,
                                    int bStride, float[] c, int cBase, int ldc, boolean add, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bi = bBase + (jr / NR) * bStride;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int r0 = aBase + ir * lda;
                if (mr == MR && nr == NR) {
                    direct(kc, a, r0, lda, MR, bp, bi, c, cBase + ir * ldc + jr, ldc, add);
                } else {
                    direct(kc, a, r0, lda, mr, bp, bi, tile, 0, NR, false);
                    merge(tile, mr, nr, c, cBase + ir * ldc + jr, ldc, add);
                }
            }
        }
    }

    /** A sliver s of the block at ap[aBase + s*aStride]; B sliver t at bp[bBase + t*bStride]. */
    private static void macroPacked(int kc, int mc, int nc, float[] ap, int aBase, int aStride, float[] bp,
                                    int bBase, int bStride, float[] c, int cBase, int ldc, boolean add,
                                    float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bi = bBase + (jr / NR) * bStride;
            for (int ir = 0; ir < mc; ir += MR) {
                int mr = Math.min(MR, mc - ir);
                int ai = aBase + (ir / MR) * aStride;
                int ci = cBase + ir * ldc + jr;
                if (mr == MR && nr == NR) {
                    packed(kc, ap, ai, bp, bi, c, ci, ldc, add);
                } else {
                    packed(kc, ap, ai, bp, bi, tile, 0, NR, false);
                    merge(tile, mr, nr, c, ci, ldc, add);
                }
            }
        }
    }

    /**
     * The direct tile of the engine's height over rows r0, r0 + lda, ...; of a short edge tile
     * ({@code rows} &lt; MR) the missing rows repeat the last valid row and their results are discarded.
     */
    static void direct(int kc, float[] a, int r0, int lda, int rows, float[] bp, int bi, float[] c, int ci,
                               int ldc, boolean add) {
        int last = rows - 1;
        if (MR == 8) {
            int a1 = r0 + Math.min(1, last) * lda;
            int a2 = r0 + Math.min(2, last) * lda;
            int a3 = r0 + Math.min(3, last) * lda;
            int a4 = r0 + Math.min(4, last) * lda;
            int a5 = r0 + Math.min(5, last) * lda;
            int a6 = r0 + Math.min(6, last) * lda;
            int a7 = r0 + Math.min(7, last) * lda;
            if (add) GemmTile8.directAdd(kc, a, r0, a1, a2, a3, a4, a5, a6, a7, bp, bi, c, ci, ldc);
            else GemmTile8.directSet(kc, a, r0, a1, a2, a3, a4, a5, a6, a7, bp, bi, c, ci, ldc);
            return;
        }
        int a1 = r0 + Math.min(1, last) * lda;
        int a2 = r0 + Math.min(2, last) * lda;
        int a3 = r0 + Math.min(3, last) * lda;
        if (add) kernelDirectAdd(kc, a, r0, a1, a2, a3, bp, bi, c, ci, ldc);
        else kernelDirectSet(kc, a, r0, a1, a2, a3, bp, bi, c, ci, ldc);
    }

    /** The packed (tn) tile of the engine's height. */
    private static void packed(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc,
                               boolean add) {
        if (MR == 8) {
            if (add) GemmTile8.packedAdd(kc, ap, ai, bp, bi, c, ci, ldc);
            else GemmTile8.packedSet(kc, ap, ai, bp, bi, c, ci, ldc);
        } else if (add) {
            kernelPackedAdd(kc, ap, ai, bp, bi, c, ci, ldc);
        } else {
            kernelPackedSet(kc, ap, ai, bp, bi, c, ci, ldc);
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
    // MR (= 4) rows x two vectors: 8 accumulators, 2 B vectors and up to 4 broadcasts fit the 16
    // AVX2 registers even when C2 hoists every broadcast of an iteration to its top, which it does
    // depending on register allocation (a 6 x 2 tile with 12 accumulators ran at full speed with
    // G1 and spilled 4 accumulators, at half speed, with ParallelGC or SerialGC). 8 independent
    // fma chains cover the fma latency x throughput of the target cores (4 x 2 on Zen 3).
    // The direct kernel reads A in place through MR row bases with unit stride in k; the packed
    // kernel (tn) reads p-major MR-row slivers. One method per
    // overwrite/accumulate: no data-dependent branch inside, so the JIT profile never goes stale
    // (a stale branch deoptimises the vector code).

    /** 4 x (2 vectors) tile; A rows read in place at a[a0 + p] .. a[a3 + p]; B packed at bp[bi + p*NR]. C = tile. */
    static void kernelDirectSet(int kc, float[] a, int a0, int a1, int a2, int a3,
            float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
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
        }
        int i0 = ci;
        int i1 = ci + ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        c00.intoArray(c, i0);
        c01.intoArray(c, i0 + VL);
        c10.intoArray(c, i1);
        c11.intoArray(c, i1 + VL);
        c20.intoArray(c, i2);
        c21.intoArray(c, i2 + VL);
        c30.intoArray(c, i3);
        c31.intoArray(c, i3 + VL);
    }

    /** 4 x (2 vectors) tile; A rows read in place at a[a0 + p] .. a[a3 + p]; B packed at bp[bi + p*NR]. C += tile. */
    static void kernelDirectAdd(int kc, float[] a, int a0, int a1, int a2, int a3,
            float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
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
        }
        int i0 = ci;
        int i1 = ci + ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        c00.add(FloatVector.fromArray(F, c, i0)).intoArray(c, i0);
        c01.add(FloatVector.fromArray(F, c, i0 + VL)).intoArray(c, i0 + VL);
        c10.add(FloatVector.fromArray(F, c, i1)).intoArray(c, i1);
        c11.add(FloatVector.fromArray(F, c, i1 + VL)).intoArray(c, i1 + VL);
        c20.add(FloatVector.fromArray(F, c, i2)).intoArray(c, i2);
        c21.add(FloatVector.fromArray(F, c, i2 + VL)).intoArray(c, i2 + VL);
        c30.add(FloatVector.fromArray(F, c, i3)).intoArray(c, i3);
        c31.add(FloatVector.fromArray(F, c, i3 + VL)).intoArray(c, i3 + VL);
    }

    /** 4 x (2 vectors) tile; A packed p-major at ap[ai + p*MR + r]; B packed at bp[bi + p*NR]. C = tile. */
    static void kernelPackedSet(int kc, float[] ap, int ai, float[] bp, int bi,
            float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
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
        }
        int i0 = ci;
        int i1 = ci + ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        c00.intoArray(c, i0);
        c01.intoArray(c, i0 + VL);
        c10.intoArray(c, i1);
        c11.intoArray(c, i1 + VL);
        c20.intoArray(c, i2);
        c21.intoArray(c, i2 + VL);
        c30.intoArray(c, i3);
        c31.intoArray(c, i3 + VL);
    }

    /** 4 x (2 vectors) tile; A packed p-major at ap[ai + p*MR + r]; B packed at bp[bi + p*NR]. C += tile. */
    static void kernelPackedAdd(int kc, float[] ap, int ai, float[] bp, int bi,
            float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
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
        }
        int i0 = ci;
        int i1 = ci + ldc;
        int i2 = ci + 2 * ldc;
        int i3 = ci + 3 * ldc;
        c00.add(FloatVector.fromArray(F, c, i0)).intoArray(c, i0);
        c01.add(FloatVector.fromArray(F, c, i0 + VL)).intoArray(c, i0 + VL);
        c10.add(FloatVector.fromArray(F, c, i1)).intoArray(c, i1);
        c11.add(FloatVector.fromArray(F, c, i1 + VL)).intoArray(c, i1 + VL);
        c20.add(FloatVector.fromArray(F, c, i2)).intoArray(c, i2);
        c21.add(FloatVector.fromArray(F, c, i2 + VL)).intoArray(c, i2 + VL);
        c30.add(FloatVector.fromArray(F, c, i3)).intoArray(c, i3);
        c31.add(FloatVector.fromArray(F, c, i3 + VL)).intoArray(c, i3 + VL);
    }

    private static int tileRows(int mr) {
        if (mr != 4 && mr != 8) throw new IllegalArgumentException("shiftaddvit.gemm.mr must be 4 or 8, got " + mr);
        return mr;
    }

    static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
