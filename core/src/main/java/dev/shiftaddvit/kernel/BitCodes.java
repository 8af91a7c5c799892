package dev.shiftaddvit.kernel;

import java.util.Arrays;

/**
 * {0,1} code matrices B ∈ {0,1}^{N×r} (r ≤ 64) for a batch of groups (one group = one image and
 * attention head), packed into long words, in two forms:
 * <ul>
 *   <li><b>token words</b> {@code tokens[g·N + n]}: bit t set iff B[g][n][t] = 1 (one word per token).
 *       The primary form: written by the encoders and read by both {@link MatAdd} products;</li>
 *   <li><b>bit rows</b> {@code rows[(g·r + t)·W + n/64]}, W = ⌈N/64⌉: bit n%64 set iff B[g][n][t] = 1
 *       (for each code bit a bitset over the tokens), derived on demand by {@link #rows()} /
 *       {@link #buildRows()} for consumers that want bitsets (popcounts, export).</li>
 * </ul>
 * Encoders keep bits ≥ r zero; the kernels mask them anyway. Tokens past N do not exist in the
 * bit rows (zero).
 */
public final class BitCodes {
    /** Largest code length a token word holds. */
    public static final int MAX_BITS = 64;

    private final int groups;
    private final int tokens;
    private final int bits;
    private final int rowWords;
    private final long[] tokenWords;
    private long[] rows;

    /** All-zero codes for groups × tokens × bits. */
    public BitCodes(int groups, int tokens, int bits) {
        if (groups < 0 || tokens < 0) {
            throw new IllegalArgumentException("groups and tokens must be >= 0, got " + groups + ", " + tokens);
        }
        if (bits < 1 || bits > MAX_BITS) {
            throw new IllegalArgumentException("code length must be in [1, " + MAX_BITS + "], got " + bits);
        }
        this.groups = groups;
        this.tokens = tokens;
        this.bits = bits;
        this.rowWords = wordsFor(tokens);
        this.tokenWords = new long[Math.multiplyExact(groups, tokens)];
    }

    /** Number of longs holding a bitset over n tokens. */
    public static int wordsFor(int n) {
        return (n + 63) >>> 6;
    }

    /** Mask of the low r bits. */
    public static long lowBits(int r) {
        return r == 64 ? -1L : (1L << r) - 1;
    }

    /**
     * Packs a float matrix read as codes (an entry is 1 when {@code > 0.5f}, else 0): element
     * [g, n, t] at {@code off + g·groupStride + n·ld + t}.
     */
    public static BitCodes fromFloats(float[] b, int off, int groupStride, int ld, int groups, int tokens, int bits) {
        BitCodes c = new BitCodes(groups, tokens, bits);
        for (int g = 0; g < groups; g++) {
            for (int n = 0; n < tokens; n++) {
                int base = off + g * groupStride + n * ld;
                long w = 0;
                for (int t = 0; t < bits; t++) if (b[base + t] > 0.5f) w |= 1L << t;
                c.tokenWords[g * tokens + n] = w;
            }
        }
        return c;
    }

    public int groups() {
        return groups;
    }

    public int tokens() {
        return tokens;
    }

    public int bits() {
        return bits;
    }

    /** Longs per bit row (⌈N/64⌉). */
    public int rowWords() {
        return rowWords;
    }

    /** The token words, [groups·N] (live; after writing them directly, call {@link #buildRows()} if bit rows were built). */
    public long[] tokenWords() {
        return tokenWords;
    }

    /** Offset of group g in {@link #tokenWords()}. */
    public int tokenOffset(int g) {
        return g * tokens;
    }

    /** The bit rows, [groups·r·W]; built on demand from the token words. */
    public long[] rows() {
        if (rows == null) buildRows();
        return rows;
    }

    /** Offset of group g in {@link #rows()}. */
    public int rowOffset(int g) {
        return g * bits * rowWords;
    }

    public boolean get(int g, int n, int t) {
        return (tokenWords[g * tokens + n] >>> t & 1L) != 0;
    }

    /** Sets one bit in the token words (invalidates the bit rows until {@link #buildRows()}). */
    public void set(int g, int n, int t, boolean value) {
        int i = g * tokens + n;
        tokenWords[i] = value ? tokenWords[i] | 1L << t : tokenWords[i] & ~(1L << t);
        rows = null;
    }

    /** (Re)derives the bit rows from the token words, in parallel over groups; returns this. */
    public BitCodes buildRows() {
        long[] r = rows != null ? rows : new long[Math.multiplyExact(Math.multiplyExact(groups, bits), rowWords)];
        long mask = lowBits(bits);
        Parallel.forRange(groups, Math.max(1, 65536 / Math.max(1, tokens * 4)), (g0, g1) -> {
            for (int g = g0; g < g1; g++) {
                int ro = g * bits * rowWords;
                Arrays.fill(r, ro, ro + bits * rowWords, 0L);
                int to = g * tokens;
                for (int n = 0; n < tokens; n++) {
                    long w = tokenWords[to + n] & mask;
                    int word = ro + (n >>> 6);
                    long bit = 1L << n;   // shift count is taken mod 64
                    while (w != 0) {
                        int t = Long.numberOfTrailingZeros(w);
                        w &= w - 1;
                        r[word + t * rowWords] |= bit;
                    }
                }
            }
        });
        rows = r;
        return this;
    }

    /** Unpacks to floats {0,1}: element [g, n, t] at g·N·r + n·r + t. */
    public float[] toFloats() {
        float[] out = new float[groups * tokens * bits];
        for (int i = 0; i < groups * tokens; i++) {
            long w = tokenWords[i];
            for (int t = 0; t < bits; t++) out[i * bits + t] = (w >>> t & 1L) != 0 ? 1f : 0f;
        }
        return out;
    }

    /** Number of set bits over all groups (the additions MatAdd #1 performs, per channel). */
    public long popCount() {
        long s = 0;
        long mask = lowBits(bits);
        for (long w : tokenWords) s += Long.bitCount(w & mask);
        return s;
    }
}
