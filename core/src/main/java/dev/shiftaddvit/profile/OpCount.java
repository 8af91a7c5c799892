package dev.shiftaddvit.profile;

import dev.shiftaddvit.kernel.BitCodes;

/**
 * Arithmetic operations of one layer call, as the layer reports them to the profiler, with the
 * counting conventions in one place (the factories below):
 * <ul>
 *   <li>A dot product of k terms costs k multiplications and k − 1 additions, plus one addition for a
 *       bias; so a dense MAC is one mult and (about) one add, and mults equal the profiler's MACs.</li>
 *   <li>A shift-weight product (DeepShift) costs one shift per <b>nonzero</b> weight and the additions
 *       of its nonzero terms (k − 1, plus the bias); zero weights are skipped. No mults.</li>
 *   <li>A binary-code product (MatAdd) costs the additions of the rows its set bits select (k − 1 per
 *       output row of k selected rows), counted from the actual codes; every code bit produced or read
 *       is one bit operation. No mults. (Our MatAdd kernel itself does fewer additions, through
 *       4-bit subset tables; this is the count of the product, not of the kernel.)</li>
 *   <li>A division is counted as a mult, a subtraction as an add. Transcendentals (exp, erf, sqrt),
 *       comparisons (max, argmax routing) and copies are not counted.</li>
 * </ul>
 * Upstream's {@code cal_energy} counts only Conv/FC/MatMul MACs, shift and MatAdd products (every code
 * bit, set or not); we also count LayerNorm, GELU's polynomial part, softmax and the attention's
 * normalisations, so both models pay for their elementwise work.
 */
public record OpCount(long mults, long adds, long shifts, long bitOps) {
    public static final OpCount ZERO = new OpCount(0, 0, 0, 0);

    public OpCount {
        if (mults < 0 || adds < 0 || shifts < 0 || bitOps < 0) {
            throw new IllegalArgumentException("negative operation count: " + mults + ", " + adds + ", " + shifts
                    + ", " + bitOps);
        }
    }

    /** The count of {@code n} calls of this one. */
    public OpCount times(long n) {
        return new OpCount(mults * n, adds * n, shifts * n, bitOps * n);
    }

    public OpCount plus(OpCount o) {
        return new OpCount(mults + o.mults, adds + o.adds, shifts + o.shifts, bitOps + o.bitOps);
    }

    /** rows × out dot products of length in (Linear, and Conv2d/DwConv per output element with in = taps). */
    public static OpCount dense(long rows, long in, long out, boolean bias) {
        return new OpCount(rows * in * out, rows * out * Math.max(0, in - 1 + (bias ? 1 : 0)), 0, 0);
    }

    /** rows × out shift-weight dot products with weights w [out, in] (powers of two or zero). */
    public static OpCount shift(long rows, float[] w, int out, int in, boolean bias) {
        long shifts = 0;
        long adds = 0;
        for (int o = 0; o < out; o++) {
            int terms = bias ? 1 : 0;
            for (int i = o * in; i < (o + 1) * in; i++) if (w[i] != 0f) terms++;
            shifts += terms - (bias ? 1 : 0);
            adds += Math.max(0, terms - 1);
        }
        return new OpCount(0, rows * adds, rows * shifts, 0);
    }

    /**
     * LayerNorm of rows of dim values, as a kernel that keeps x − μ: mean (d − 1 adds, 1 div), variance
     * (d subs, d squares, d − 1 adds, 1 div, 1 add for eps), then ×rstd, ×γ, +β.
     */
    public static OpCount layerNorm(long rows, long dim) {
        return new OpCount(rows * (3 * dim + 2), rows * (4 * dim - 1), 0, 0);
    }

    /** GELU 0.5·x·(1 + erf(x/√2)): 3 mults and 1 add per element (erf not counted). */
    public static OpCount gelu(long elements) {
        return new OpCount(3 * elements, elements, 0, 0);
    }

    /**
     * softmax(Q·Kᵀ·scale)·V for groups (batch·heads) of n queries, m keys, head dim d: both products, the
     * scale, and per score row the max subtraction, the sum and the normalisation (one division per row).
     */
    public static OpCount softmaxAttention(long groups, long n, long m, long d) {
        long scores = groups * n * m;
        long mults = 2 * scores * d + scores + scores + groups * n;
        long adds = scores * (d - 1) + groups * n * (2 * m - 1) + groups * n * d * (m - 1);
        return new OpCount(mults, adds, 0, 0);
    }

    /** Row normalisation x/‖x‖ of blocks of d values: d squares, d − 1 adds, d divisions per block. */
    public static OpCount normalise(long blocks, long d) {
        return new OpCount(blocks * 2 * d, blocks * (d - 1), 0, 0);
    }

    /**
     * KSH encoding of rows (token·head blocks of head dim d) against m anchors into r bits: squared
     * distances (m·d subs, squares and adds), σ per group (the mean of the n·m distances), the kernel
     * argument dist/2σ and the centring −μ (exp not counted), the projection (m·r MACs) and one bit
     * operation per code bit (its sign test).
     */
    public static OpCount kshEncode(long rows, long d, long m, long r) {
        long mults = rows * (m * d + m + m * r);
        long adds = rows * (m * (2 * d - 1) + m + m + (m - 1) * r);
        return new OpCount(mults, adds, 0, rows * r);
    }

    /** Sign codes 1[x − mean > 0] of rows·d values: the mean's sum and the subtraction, one bit operation each. */
    public static OpCount signEncode(long values) {
        return new OpCount(0, 2 * values, 0, values);
    }

    /**
     * Both MatAdd products of add-attention, T = Bᵀ·V then P = B·T, for value width d (the head dim):
     * T row t sums the V rows whose bit t is set, P row k the T rows of token k's set bits. Each product
     * reads every code bit once (bit operations).
     */
    public static OpCount matAdd(BitCodes codes, long d) {
        long mask = BitCodes.lowBits(codes.bits());
        long[] words = codes.tokenWords();
        long adds = 0;
        for (int g = 0; g < codes.groups(); g++) {
            long set = 0;
            long usedBits = 0;
            long nonzeroTokens = 0;
            int off = codes.tokenOffset(g);
            for (int k = 0; k < codes.tokens(); k++) {
                long w = words[off + k] & mask;
                set += Long.bitCount(w);
                usedBits |= w;
                if (w != 0) nonzeroTokens++;
            }
            adds += (set - Long.bitCount(usedBits)) + (set - nonzeroTokens);
        }
        return new OpCount(0, adds * d, 0, 2L * codes.groups() * codes.tokens() * codes.bits());
    }

    /** Elementwise work: per element the given mults and adds. */
    public static OpCount elementwise(long elements, long mults, long adds) {
        return new OpCount(elements * mults, elements * adds, 0, 0);
    }
}
