package dev.shiftaddvit.kernel;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * MatAdd: products with a binary {0,1} left operand computed with additions only (ShiftAddViT
 * §2.4/§5.1). For one group (image·head) with codes B ∈ {0,1}^{N×r} (r ≤ 64), given as one word
 * per token ({@link BitCodes#tokenWords()}, bit t of token k's word = B[k][t], bits ≥ r ignored):
 * <ul>
 *   <li>{@link #transposedTimes}: T = Bᵀ·V ∈ R^{r×d}; row t of T is the sum of the V rows whose bit
 *       t is set (MatAdd #1);</li>
 *   <li>{@link #times}: P = B·T ∈ R^{N×d}; row k of P is the sum of the T rows selected by token
 *       k's bits (MatAdd #2).</li>
 * </ul>
 * Both cut the r bits into ⌈r/4⌉ groups of four and work with the 16 patterns of a group:
 * <ul>
 *   <li>Bᵀ·V (bucket sums): each V row is added into one bucket per bit group, the bucket of its
 *       4-bit pattern (⌈r/4⌉·d additions per token, no data-dependent branch); then row t of T is
 *       the sum of the 8 buckets of its group whose pattern has bit t. Tokens are processed in
 *       fixed blocks of {@value #BLOCK} (each with its own buckets, summed in block order), so a
 *       single large head also splits over threads and the result does not depend on the thread
 *       count.</li>
 *   <li>B·T (subset-sum tables, "four Russians"): per group, the 16 sums of its T rows, each one
 *       addition away from a smaller one; a token's row is the sum of its ⌈r/4⌉ table rows.</li>
 * </ul>
 * Vectorised over d (FloatVector, then a scalar tail); additions only. Every output element is a
 * float sum in a fixed order (documented at the scalar twins in {@link MatAddReference}), starting
 * from +0, so the SIMD kernels and their scalar twins agree exactly; against a float matmul with a
 * {0,1} matrix they agree up to summation order. The {@code ...Heads} forms run all groups of a
 * [batch, N, heads·d] token-major activation through {@link Parallel}. Outputs are overwritten.
 */
public final class MatAdd {
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    private static final int L = F.length();
    /** Tokens per bucket block of Bᵀ·V. */
    public static final int BLOCK = 1024;
    /** Additions per parallel chunk (about); smaller calls run on the calling thread (cf. Gemm's thresholds). */
    private static final int GRAIN = 1 << 17;

    private MatAdd() {
    }

    /**
     * T[t, :] = Σ_{k : bit t of token k} V[k, :] for t in [0, r). Token k's word is
     * {@code words[cOff + k]}; V[k, c] is {@code v[vOff + k·ldv + c]}; T[t, c] is written to
     * {@code out[tOff + t·ldt + c]}.
     */
    public static void transposedTimes(int n, int r, int d, long[] words, int cOff, float[] v, int vOff, int ldv,
                                       float[] out, int tOff, int ldt) {
        checkDims(n, r, d);
        int blocks = blocks(n);
        int bs = bucketSize(r, d);
        float[] bk = new float[blocks * bs];
        for (int blk = 0; blk < blocks; blk++) {
            bucketBlock(blk * BLOCK, Math.min(n, (blk + 1) * BLOCK), r, d, words, cOff, v, vOff, ldv, bk, blk * bs);
        }
        for (int t = 0; t < r; t++) bucketRow(t, d, blocks, bs, bk, 0, out, tOff + t * ldt);
    }

    /**
     * P[k, :] = Σ_{t : bit t of token k} T[t, :] for k in [0, n). Token k's word is
     * {@code words[cOff + k]} (bits ≥ r ignored); T[t, c] is {@code tm[tOff + t·ldt + c]}; P[k, c] is
     * written to {@code out[pOff + k·ldp + c]}.
     */
    public static void times(int n, int r, int d, long[] words, int cOff, float[] tm, int tOff, int ldt,
                             float[] out, int pOff, int ldp) {
        checkDims(n, r, d);
        long mask = BitCodes.lowBits(r);
        float[] tab = new float[tableSize(r, d)];
        buildTables(r, d, tm, tOff, ldt, tab, 0);
        for (int k = 0; k < n; k++) tokenRow(r, d, words[cOff + k] & mask, tab, 0, out, pOff + k * ldp);
    }

    /**
     * Bᵀ·V for every group g = b·heads + h of {@code codes} (tokens N = codes.tokens()): V of group
     * g is the head slice {@code v[vOff + b·N·ldv + h·d + k·ldv + c]}; T of group g is written
     * contiguous at {@code out[tOff + g·r·d + t·d + c]}. Parallel over (group, token block), then
     * over (group, bit) rows.
     */
    public static void transposedTimesHeads(BitCodes codes, int heads, int d, float[] v, int vOff, int ldv,
                                            float[] out, int tOff) {
        int groups = codes.groups();
        int n = codes.tokens();
        int r = codes.bits();
        checkHeads(groups, heads, d);
        long[] words = codes.tokenWords();
        int blocks = blocks(n);
        int bs = bucketSize(r, d);
        float[] bk = new float[groups * blocks * bs];
        int perBlock = Math.max(1, Math.min(n, BLOCK) * ((r + 3) / 4) * d);
        Parallel.forRange(groups * blocks, Math.max(1, GRAIN / perBlock), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int g = i / blocks;
                int blk = i % blocks;
                bucketBlock(blk * BLOCK, Math.min(n, (blk + 1) * BLOCK), r, d, words, codes.tokenOffset(g),
                        v, vOff + (g / heads) * n * ldv + (g % heads) * d, ldv, bk, i * bs);
            }
        });
        Parallel.forRange(groups * r, Math.max(1, GRAIN / Math.max(1, 8 * blocks * d)), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int g = i / r;
                int t = i % r;
                bucketRow(t, d, blocks, bs, bk, g * blocks * bs, out, tOff + (g * r + t) * d);
            }
        });
    }

    /**
     * B·T for every group g = b·heads + h: T of group g is contiguous at {@code tm[tOff + g·r·d]}
     * (as written by {@link #transposedTimesHeads}); P of group g is written to the head slice
     * {@code out[pOff + b·N·ldp + h·d + k·ldp + c]}.
     */
    public static void timesHeads(BitCodes codes, int heads, int d, float[] tm, int tOff, float[] out, int pOff,
                                  int ldp) {
        int groups = codes.groups();
        int n = codes.tokens();
        int r = codes.bits();
        checkHeads(groups, heads, d);
        long[] words = codes.tokenWords();
        long mask = BitCodes.lowBits(r);
        int ts = tableSize(r, d);
        float[] tab = new float[groups * ts];
        Parallel.forRange(groups, Math.max(1, GRAIN / Math.max(1, ts)), (g0, g1) -> {
            for (int g = g0; g < g1; g++) buildTables(r, d, tm, tOff + g * r * d, d, tab, g * ts);
        });
        int items = groups * n;
        int minChunk = Math.max(1, GRAIN / Math.max(1, (r + 3) / 4 * d));
        Parallel.forRange(items, minChunk, (i0, i1) -> {
            int g = i0 / n;
            int k = i0 % n;
            for (int i = i0; i < i1; g++, k = 0) {
                int kEnd = Math.min(n, k + (i1 - i));
                int wo = codes.tokenOffset(g);
                int oo = pOff + (g / heads) * n * ldp + (g % heads) * d;
                for (; k < kEnd; k++, i++) tokenRow(r, d, words[wo + k] & mask, tab, g * ts, out, oo + k * ldp);
            }
        });
    }

    // ---- inner kernels -------------------------------------------------------------------------

    static int blocks(int n) {
        return Math.max(1, (n + BLOCK - 1) / BLOCK);
    }

    /** Floats of the buckets of one block: ⌈r/4⌉ bit groups × 16 patterns × d. */
    static int bucketSize(int r, int d) {
        return (r + 3) / 4 * 16 * d;
    }

    /**
     * Buckets of tokens [k0, k1): bk[bOff + (q·16 + s)·d + c] = Σ_{k ascending, pattern of bit group
     * q of token k = s} V[k, c], from +0 (pattern-0 buckets are filled too but never read).
     */
    private static void bucketBlock(int k0, int k1, int r, int d, long[] words, int cOff, float[] v, int vOff, int ldv,
                                    float[] bk, int bOff) {
        int groups = (r + 3) / 4;
        Arrays.fill(bk, bOff, bOff + groups * 16 * d, 0f);
        long mask = BitCodes.lowBits(r);
        int stride = 16 * d;
        for (int k = k0; k < k1; k++) {
            long w = words[cOff + k] & mask;
            int vo = vOff + k * ldv;
            if (groups == 4) {   // r in 13..16 (the released configs): unrolled
                int o0 = bOff + (int) (w & 15) * d;
                int o1 = bOff + stride + (int) (w >>> 4 & 15) * d;
                int o2 = bOff + 2 * stride + (int) (w >>> 8 & 15) * d;
                int o3 = bOff + 3 * stride + (int) (w >>> 12 & 15) * d;
                int c = 0;
                for (; c <= d - L; c += L) {
                    FloatVector x = FloatVector.fromArray(F, v, vo + c);
                    FloatVector.fromArray(F, bk, o0 + c).add(x).intoArray(bk, o0 + c);
                    FloatVector.fromArray(F, bk, o1 + c).add(x).intoArray(bk, o1 + c);
                    FloatVector.fromArray(F, bk, o2 + c).add(x).intoArray(bk, o2 + c);
                    FloatVector.fromArray(F, bk, o3 + c).add(x).intoArray(bk, o3 + c);
                }
                for (; c < d; c++) {
                    float x = v[vo + c];
                    bk[o0 + c] += x;
                    bk[o1 + c] += x;
                    bk[o2 + c] += x;
                    bk[o3 + c] += x;
                }
            } else {
                for (int q = 0; q < groups; q++) {
                    int o = bOff + q * stride + (int) (w >>> 4 * q & 15) * d;
                    int c = 0;
                    for (; c <= d - L; c += L) {
                        FloatVector.fromArray(F, bk, o + c).add(FloatVector.fromArray(F, v, vo + c)).intoArray(bk, o + c);
                    }
                    for (; c < d; c++) bk[o + c] += v[vo + c];
                }
            }
        }
    }

    /**
     * Row t of Bᵀ·V from the buckets of all blocks of one group (at bk[gOff], blocks·bs floats):
     * Σ_{patterns s ascending with bit t%4} (Σ_{blocks ascending} bucket), each sum from +0.
     */
    private static void bucketRow(int t, int d, int blocks, int bs, float[] bk, int gOff, float[] out, int oOff) {
        int q = t >>> 2;
        int j = t & 3;
        int c = 0;
        for (; c <= d - L; c += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int s = 1; s < 16; s++) {
                if ((s >>> j & 1) == 0) continue;
                int o = gOff + (q * 16 + s) * d + c;
                FloatVector tot = FloatVector.fromArray(F, bk, o);
                for (int blk = 1; blk < blocks; blk++) tot = tot.add(FloatVector.fromArray(F, bk, o + blk * bs));
                acc = acc.add(tot);
            }
            acc.intoArray(out, oOff + c);
        }
        for (; c < d; c++) {
            float acc = 0f;
            for (int s = 1; s < 16; s++) {
                if ((s >>> j & 1) == 0) continue;
                int o = gOff + (q * 16 + s) * d + c;
                float tot = bk[o];
                for (int blk = 1; blk < blocks; blk++) tot += bk[o + blk * bs];
                acc += tot;
            }
            out[oOff + c] = acc;
        }
    }

    /** Floats of the subset-sum tables of one group: ⌈r/4⌉ tables of 16 rows of d. */
    static int tableSize(int r, int d) {
        return (r + 3) / 4 * 16 * d;
    }

    /**
     * Subset-sum tables: for bit group q (bits 4q..4q+3) and 4-bit pattern s, row
     * tab[tabOff + (q·16 + s)·d ..] = Σ_{bits j of s, ascending} T[4q + j] (starting from +0), each
     * row one addition away from a smaller one. Patterns using bits ≥ r are left zero (never read).
     */
    private static void buildTables(int r, int d, float[] tm, int tOff, int ldt, float[] tab, int tabOff) {
        for (int q = 0; q < (r + 3) / 4; q++) {
            int base = tabOff + q * 16 * d;
            int nb = Math.min(4, r - 4 * q);
            java.util.Arrays.fill(tab, base, base + d, 0f);
            for (int s = 1; s < 1 << nb; s++) {
                int hb = 31 - Integer.numberOfLeadingZeros(s);
                int prev = base + (s & ~(1 << hb)) * d;
                int src = tOff + (4 * q + hb) * ldt;
                int dst = base + s * d;
                int c = 0;
                for (; c <= d - L; c += L) {
                    FloatVector.fromArray(F, tab, prev + c).add(FloatVector.fromArray(F, tm, src + c)).intoArray(tab, dst + c);
                }
                for (; c < d; c++) tab[dst + c] = tab[prev + c] + tm[src + c];
            }
        }
    }

    /** One row of B·T: the sum over bit groups (ascending) of the table rows picked by the word's 4-bit patterns. */
    private static void tokenRow(int r, int d, long word, float[] tab, int tabOff, float[] out, int oOff) {
        int groups = (r + 3) / 4;
        if (groups == 4) {   // r in 13..16 (the released configs): unrolled, no loop-carried vector
            tokenRow4(d, word, tab, tabOff, out, oOff);
            return;
        }
        int stride = 16 * d;
        int first = tabOff + (int) (word & 15) * d;
        int c = 0;
        for (; c <= d - L; c += L) {
            FloatVector a0 = FloatVector.fromArray(F, tab, first + c);
            for (int q = 1; q < groups; q++) {
                a0 = a0.add(FloatVector.fromArray(F, tab, tabOff + q * stride + (int) (word >>> 4 * q & 15) * d + c));
            }
            a0.intoArray(out, oOff + c);
        }
        for (; c < d; c++) {
            float acc = tab[first + c];
            for (int q = 1; q < groups; q++) acc += tab[tabOff + q * stride + (int) (word >>> 4 * q & 15) * d + c];
            out[oOff + c] = acc;
        }
    }

    /** {@link #tokenRow} for four bit groups. */
    private static void tokenRow4(int d, long word, float[] tab, int tabOff, float[] out, int oOff) {
        int stride = 16 * d;
        int o0 = tabOff + (int) (word & 15) * d;
        int o1 = tabOff + stride + (int) (word >>> 4 & 15) * d;
        int o2 = tabOff + 2 * stride + (int) (word >>> 8 & 15) * d;
        int o3 = tabOff + 3 * stride + (int) (word >>> 12 & 15) * d;
        int c = 0;
        for (; c <= d - L; c += L) {
            FloatVector.fromArray(F, tab, o0 + c).add(FloatVector.fromArray(F, tab, o1 + c))
                    .add(FloatVector.fromArray(F, tab, o2 + c)).add(FloatVector.fromArray(F, tab, o3 + c))
                    .intoArray(out, oOff + c);
        }
        for (; c < d; c++) out[oOff + c] = ((tab[o0 + c] + tab[o1 + c]) + tab[o2 + c]) + tab[o3 + c];
    }

    static void checkDims(int n, int r, int d) {
        if (n < 0 || d < 0 || r < 1 || r > BitCodes.MAX_BITS) {
            throw new IllegalArgumentException("MatAdd needs n, d >= 0 and 1 <= r <= 64; got n=" + n + " r=" + r + " d=" + d);
        }
    }

    static void checkHeads(int groups, int heads, int d) {
        if (heads < 1 || groups % heads != 0) {
            throw new IllegalArgumentException("MatAdd: " + groups + " code groups are not a multiple of " + heads + " heads");
        }
        if (d < 0) throw new IllegalArgumentException("MatAdd: head dim must be >= 0, got " + d);
    }
}
