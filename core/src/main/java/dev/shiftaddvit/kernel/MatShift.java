package dev.shiftaddvit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * MatShift, the deployment kernel of a shift layer (DeepShift-PS / ShiftAddViT Shift expert):
 * <pre>
 *   out[i, j] = bias[j] + Σ_k sign[j, k] · ((x[i, k] + r[j, k]) &gt;&gt; s[j, k]),
 *   s = −shift[j, k],  r = 2^(s−1) for s &gt; 0, r = 0 for s = 0
 * </pre>
 * over int32 Q16.16 activations x [M, K] (see {@link FixedPoint}), ternary signs and exponents
 * shift ≤ 0 given per weight in PyTorch's [out, in] = [N, K] layout, int32 bias (raw Q16.16), int32
 * output [M, N] (or its float value ·2^-16).
 *
 * <p><b>Rounding.</b> Each term is x·2^shift rounded to the nearest unit 2^-16, ties toward +∞:
 * (x + 2^(s−1)) &gt;&gt; s = floor(x·2^shift + 1/2) with an arithmetic shift, for either sign of x; the
 * weight's sign is applied after rounding, so a negative weight contributes −round(x·2^shift): a tie
 * (x's low s bits exactly 10…0, one value in 2^s) moves the term by sign·1/2 unit, which cancels on average
 * between positive and negative weights (it is ~2^-(s+1) units per term, large only for s = 1, 2). s = 0
 * is exact. Every term is therefore within
 * half a unit (2^-17) of the exact product, and an output is within (nonzero weights of its column)·2^-17
 * of the float simulation Q(x)·Wᵀ + Q(b) (before that simulation's own float rounding). The per-term
 * errors are centred (uniform on [−2^-17, 2^-17]), so a sum of K terms typically errs by √(K/12)·2^-16.
 * Flooring (x &gt;&gt; s, the rule before) erred by up to a whole unit per term, one-sided per weight sign
 * (a same-sign column drifts by ~K/2 units, ~√(K/3) units RMS for mixed signs).
 * Exponents below −31 contribute exactly 0 (|x·2^shift| ≤ 1/2 for every int32 x; −1/2 rounds up to 0)
 * and are packed as zero weights, so no Java shift-count masking can bite; positive exponents are rejected.
 *
 * <p><b>Overflow of the rounding add.</b> x + 2^(s−1) is formed in int32 and wraps (as the accumulation
 * does) when x &gt; 2^31 − 1 − 2^(s−1). Activations from {@link FixedPoint#toFixed} are saturated to at
 * most 2^31 − 2^16 (real 32767), so this cannot happen for them with shift ≥ −16, which covers every
 * trained model (shift ∈ [−14, 0]); only raw int inputs within 2^(s−1) of Integer.MAX_VALUE with
 * shift ≤ −17 hit it. {@link MatShiftReference} wraps identically, so the two stay bit-exact.
 *
 * <p>Accumulation is int32 with two's-complement wrap-around, as upstream's int32 TVM/DeepShift
 * kernels; it cannot overflow while |out| stays below 2^15 in real units (Q16.16's own range).
 *
 * <p><b>Packed layout</b> ({@link #pack}): the N columns are cut into slivers of NR = 2 vectors
 * (16 columns with AVX2, 32 with AVX-512); a sliver stores, for every k, NR shift counts s, NR XOR masks
 * (−1 where sign = −1) and NR AND masks (0 where sign = 0), p-major, so the micro-kernel streams one
 * contiguous array. Per k it derives the rounding constants r = (1 &lt;&lt; s) &gt;&gt;&gt; 1 (0 for s = 0)
 * from the shift counts once for all rows of the tile, then per row broadcasts x[i, k] and does, per
 * vector, {@code acc += (((x + r) >> s) & z) ^ m}: with m = −1 that is −((x + r) &gt;&gt; s) − 1, so the
 * number of negative signs per column is added once, up front, to the bias ({@code init}). Slivers
 * without a zero sign skip the AND. No multiply anywhere. Deriving r measured as fast as streaming it
 * as a fourth packed word and keeps the packed size; the rounding add costs ~25 % over flooring
 * (x &gt;&gt; s). Register tile: 4 rows × 2 vectors; blocks of MB rows stay cache resident while every
 * sliver passes over them; row blocks are split over {@link Parallel}.
 * Padded columns of the last sliver carry zero codes and are never stored.
 *
 * <p>JIT note (measured): vectors must not cross a call boundary in the hot path. Passing the
 * accumulators' initial vectors in as IntVector parameters, or the results out to a non-inlined
 * store helper, made C2 box every vector in the k loop (~40× slower); the tile methods therefore
 * load their initial vectors themselves and leave through a per-thread int scratch tile.
 */
public final class MatShift {
    static final VectorSpecies<Integer> I = VectorWidth.INT;
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    /** Lanes per vector. */
    static final int VL = I.length();
    /** Columns per packed sliver (two vectors). */
    static final int NR = 2 * VL;
    /** Packed words per weight: shift count, XOR mask, AND mask. */
    static final int WORDS = 3;
    /** Lanes of 1, shifted left by the shift counts to derive the rounding constants. */
    private static final IntVector ONE = IntVector.broadcast(I, 1);
    /** Rows of the register tile. */
    static final int MR = 4;
    /** Rows per block whose activations stay cache resident while all slivers pass over them. */
    static final int MB = 64;
    /** Largest right shift applied; smaller exponents (shift &lt; −31) contribute exactly 0. */
    public static final int MAX_RIGHT_SHIFT = 31;
    /** Below this many shift-adds a call runs on the calling thread. */
    static final long PARALLEL_MIN_OPS = 1L << 18;

    private MatShift() {
    }

    /** Shift weights prepacked for the kernel; immutable, shareable across threads. */
    public static final class Packed {
        private final int n;
        private final int k;
        private final int slivers;
        /** [sliver][k][shift | xor | and][NR]. */
        final int[] data;
        /** [slivers·NR]: raw bias plus count of negative signs, per column (padding 0). */
        final int[] init;
        /** Per sliver: some (real) column has a zero sign, so the AND mask is needed. */
        final boolean[] zeros;
        private final int[] bias;

        Packed(int n, int k, int[] data, int[] init, boolean[] zeros, int[] bias) {
            this.n = n;
            this.k = k;
            this.slivers = (n + NR - 1) / NR;
            this.data = data;
            this.init = init;
            this.zeros = zeros;
            this.bias = bias;
        }

        /** Output features N. */
        public int n() {
            return n;
        }

        /** Input features K. */
        public int k() {
            return k;
        }

        /** Raw Q16.16 bias (a copy), or null. */
        public int[] bias() {
            return bias == null ? null : bias.clone();
        }

        /** Bytes held by the packed arrays (the runtime working format, not the storage format). */
        public long bytes() {
            return 4L * data.length + 4L * init.length + zeros.length;
        }
    }

    /**
     * Packs sign [N, K] ∈ {−1, 0, 1} and shift [N, K] ≤ 0 (weight sign·2^shift), row-major as a PyTorch
     * Linear weight, with an optional raw Q16.16 bias [N] (null for none).
     *
     * @throws IllegalArgumentException on bad sizes, a sign outside {−1, 0, 1} or a positive shift,
     *                                  naming the row and column.
     */
    public static Packed pack(int n, int k, byte[] sign, byte[] shift, int[] biasFixed) {
        if (n < 0 || k < 0) throw new IllegalArgumentException("MatShift.pack: negative size n=" + n + " k=" + k);
        long size = (long) n * k;
        if (sign.length != size || shift.length != size) {
            throw new IllegalArgumentException("MatShift.pack: expected " + size + " signs and shifts for [" + n + ", "
                    + k + "], got " + sign.length + " and " + shift.length);
        }
        if (biasFixed != null && biasFixed.length != n) {
            throw new IllegalArgumentException("MatShift.pack: bias has " + biasFixed.length + " entries, expected " + n);
        }
        int slivers = (n + NR - 1) / NR;
        long words = (long) slivers * k * WORDS * NR;
        if (words > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("MatShift.pack: [" + n + ", " + k + "] too large to pack");
        }
        int[] data = new int[(int) words];
        int[] init = new int[slivers * NR];
        boolean[] zeros = new boolean[slivers];
        for (int j = 0; j < n; j++) {
            int sl = j / NR;
            int lane = j % NR;
            int base = sl * k * WORDS * NR + lane;
            int neg = 0;
            for (int p = 0; p < k; p++) {
                int idx = j * k + p;
                int s = sign[idx];
                int e = shift[idx];
                if (s < -1 || s > 1) {
                    throw new IllegalArgumentException("MatShift.pack: sign at [" + j + ", " + p + "] is " + s
                            + ", expected -1, 0 or 1");
                }
                if (e > 0) {
                    throw new IllegalArgumentException("MatShift.pack: shift at [" + j + ", " + p + "] is " + e
                            + ", expected <= 0 (a right shift)");
                }
                int o = base + p * WORDS * NR;
                if (-e > MAX_RIGHT_SHIFT) s = 0; // round(x·2^e) = 0 for every int32 x: a zero weight
                data[o] = s == 0 ? 0 : -e;
                data[o + NR] = s < 0 ? -1 : 0;
                data[o + 2 * NR] = s != 0 ? -1 : 0;
                if (s < 0) neg++;
                if (s == 0) zeros[sl] = true;
            }
            init[j] = neg + (biasFixed == null ? 0 : biasFixed[j]);
        }
        return new Packed(n, k, data, init, zeros, biasFixed == null ? null : biasFixed.clone());
    }

    /** out[i, j] (int32, raw Q16.16) for rows i in [0, m); x is int32 Q16.16 [m, K] with leading dim ldx. */
    public static void matShift(int m, Packed w, int[] x, int xOff, int ldx, int[] out, int outOff, int ldo) {
        checkArgs(m, w, x.length, xOff, ldx, out.length, outOff, ldo);
        run(m, w, x, xOff, ldx, out, null, outOff, ldo);
    }

    /** As {@link #matShift} but writes the real value out·2^-16 as float. */
    public static void matShiftToFloat(int m, Packed w, int[] x, int xOff, int ldx, float[] out, int outOff, int ldo) {
        checkArgs(m, w, x.length, xOff, ldx, out.length, outOff, ldo);
        run(m, w, x, xOff, ldx, null, out, outOff, ldo);
    }

    /**
     * Deployment forward from float activations: x is quantized to Q16.16 ({@link FixedPoint#toFixed})
     * block by block into a per-thread buffer, then the integer kernel runs and the result is written as
     * float. Equivalent to toFixed + {@link #matShiftToFloat}.
     */
    public static void forward(int m, Packed w, float[] x, int xOff, int ldx, float[] out, int outOff, int ldo) {
        checkArgs(m, w, x.length, xOff, ldx, out.length, outOff, ldo);
        if (m == 0 || w.n == 0) return;
        int k = w.k;
        forEachBlock(m, w, (r0, r1) -> {
            int[] buf = BUFFERS.get().x(MB * k);
            for (int b0 = r0; b0 < r1; b0 += MB) {
                int rows = Math.min(MB, r1 - b0);
                for (int r = 0; r < rows; r++) {
                    FixedPoint.toFixedRange(x, xOff + (b0 + r) * ldx, buf, r * k, k);
                }
                block(w, buf, 0, k, rows, null, out, outOff + b0 * ldo, ldo);
            }
        });
    }

    private static void run(int m, Packed w, int[] x, int xOff, int ldx, int[] outI, float[] outF, int outOff,
                            int ldo) {
        if (m == 0 || w.n == 0) return;
        forEachBlock(m, w, (r0, r1) -> {
            for (int b0 = r0; b0 < r1; b0 += MB) {
                int rows = Math.min(MB, r1 - b0);
                block(w, x, xOff + b0 * ldx, ldx, rows, outI, outF, outOff + b0 * ldo, ldo);
            }
        });
    }

    /** Splits rows [0, m) over the pool in chunks of whole register tiles. */
    private static void forEachBlock(int m, Packed w, Parallel.RangeBody rows) {
        long ops = (long) m * w.n * Math.max(1, w.k);
        int tiles = (m + MR - 1) / MR;
        if (ops < PARALLEL_MIN_OPS || tiles == 1) {
            rows.run(0, m);
            return;
        }
        long perTile = (long) MR * w.n * Math.max(1, w.k);
        int minChunk = (int) Math.max(1, Math.min(tiles, PARALLEL_MIN_OPS / perTile));
        Parallel.forRange(tiles, minChunk, (t0, t1) -> rows.run(t0 * MR, Math.min(m, t1 * MR)));
    }

    /** All slivers over one block of rows (x at xOff, rows consecutive with ldx). */
    private static void block(Packed w, int[] x, int xOff, int ldx, int rows, int[] outI, float[] outF, int oOff,
                              int ldo) {
        int k = w.k;
        int[] d = w.data;
        int[] scratch = BUFFERS.get().tile;
        for (int sl = 0; sl < w.slivers; sl++) {
            int base = sl * k * WORDS * NR;
            int col0 = sl * NR;
            int cols = Math.min(NR, w.n - col0);
            boolean z = w.zeros[sl];
            int r = 0;
            for (; r + MR <= rows; r += MR) {
                int xa = xOff + r * ldx;
                int o = oOff + r * ldo + col0;
                if (z) {
                    tile4z(d, base, k, w.init, col0, x, xa, ldx, outI, outF, o, ldo, cols, scratch);
                } else {
                    tile4(d, base, k, w.init, col0, x, xa, ldx, outI, outF, o, ldo, cols, scratch);
                }
            }
            for (; r < rows; r++) {
                tile1(d, base, k, z, w.init, col0, x, xOff + r * ldx, outI, outF, oOff + r * ldo + col0, cols, scratch);
            }
        }
    }

    private static void tile4(int[] d, int base, int k, int[] init, int col0, int[] x, int xa, int ldx,
                              int[] outI, float[] outF, int o, int ldo, int cols, int[] scratch) {
        IntVector i0 = IntVector.fromArray(I, init, col0);
        IntVector i1 = IntVector.fromArray(I, init, col0 + VL);
        IntVector a00 = i0, a01 = i1, a10 = i0, a11 = i1, a20 = i0, a21 = i1, a30 = i0, a31 = i1;
        int x0 = xa, x1 = xa + ldx, x2 = xa + 2 * ldx, x3 = xa + 3 * ldx;
        for (int p = 0, q = base; p < k; p++, q += WORDS * NR) {
            IntVector s0 = IntVector.fromArray(I, d, q);
            IntVector s1 = IntVector.fromArray(I, d, q + VL);
            IntVector r0 = ONE.lanewise(VectorOperators.LSHL, s0).lanewise(VectorOperators.LSHR, 1);
            IntVector r1 = ONE.lanewise(VectorOperators.LSHL, s1).lanewise(VectorOperators.LSHR, 1);
            IntVector m0 = IntVector.fromArray(I, d, q + NR);
            IntVector m1 = IntVector.fromArray(I, d, q + NR + VL);
            IntVector v = IntVector.broadcast(I, x[x0 + p]);
            a00 = a00.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).lanewise(VectorOperators.XOR, m0));
            a01 = a01.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).lanewise(VectorOperators.XOR, m1));
            v = IntVector.broadcast(I, x[x1 + p]);
            a10 = a10.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).lanewise(VectorOperators.XOR, m0));
            a11 = a11.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).lanewise(VectorOperators.XOR, m1));
            v = IntVector.broadcast(I, x[x2 + p]);
            a20 = a20.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).lanewise(VectorOperators.XOR, m0));
            a21 = a21.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).lanewise(VectorOperators.XOR, m1));
            v = IntVector.broadcast(I, x[x3 + p]);
            a30 = a30.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).lanewise(VectorOperators.XOR, m0));
            a31 = a31.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).lanewise(VectorOperators.XOR, m1));
        }
        // Accumulators go through the scratch tile: passing them to a call would make C2 box them.
        a00.intoArray(scratch, 0);
        a01.intoArray(scratch, VL);
        a10.intoArray(scratch, NR);
        a11.intoArray(scratch, NR + VL);
        a20.intoArray(scratch, 2 * NR);
        a21.intoArray(scratch, 2 * NR + VL);
        a30.intoArray(scratch, 3 * NR);
        a31.intoArray(scratch, 3 * NR + VL);
        flush(scratch, MR, outI, outF, o, ldo, cols);
    }

    private static void tile4z(int[] d, int base, int k, int[] init, int col0, int[] x, int xa, int ldx,
                               int[] outI, float[] outF, int o, int ldo, int cols, int[] scratch) {
        IntVector i0 = IntVector.fromArray(I, init, col0);
        IntVector i1 = IntVector.fromArray(I, init, col0 + VL);
        IntVector a00 = i0, a01 = i1, a10 = i0, a11 = i1, a20 = i0, a21 = i1, a30 = i0, a31 = i1;
        int x0 = xa, x1 = xa + ldx, x2 = xa + 2 * ldx, x3 = xa + 3 * ldx;
        for (int p = 0, q = base; p < k; p++, q += WORDS * NR) {
            IntVector s0 = IntVector.fromArray(I, d, q);
            IntVector s1 = IntVector.fromArray(I, d, q + VL);
            IntVector r0 = ONE.lanewise(VectorOperators.LSHL, s0).lanewise(VectorOperators.LSHR, 1);
            IntVector r1 = ONE.lanewise(VectorOperators.LSHL, s1).lanewise(VectorOperators.LSHR, 1);
            IntVector m0 = IntVector.fromArray(I, d, q + NR);
            IntVector m1 = IntVector.fromArray(I, d, q + NR + VL);
            IntVector z0 = IntVector.fromArray(I, d, q + 2 * NR);
            IntVector z1 = IntVector.fromArray(I, d, q + 2 * NR + VL);
            IntVector v = IntVector.broadcast(I, x[x0 + p]);
            a00 = a00.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).and(z0).lanewise(VectorOperators.XOR, m0));
            a01 = a01.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).and(z1).lanewise(VectorOperators.XOR, m1));
            v = IntVector.broadcast(I, x[x1 + p]);
            a10 = a10.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).and(z0).lanewise(VectorOperators.XOR, m0));
            a11 = a11.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).and(z1).lanewise(VectorOperators.XOR, m1));
            v = IntVector.broadcast(I, x[x2 + p]);
            a20 = a20.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).and(z0).lanewise(VectorOperators.XOR, m0));
            a21 = a21.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).and(z1).lanewise(VectorOperators.XOR, m1));
            v = IntVector.broadcast(I, x[x3 + p]);
            a30 = a30.add(v.add(r0).lanewise(VectorOperators.ASHR, s0).and(z0).lanewise(VectorOperators.XOR, m0));
            a31 = a31.add(v.add(r1).lanewise(VectorOperators.ASHR, s1).and(z1).lanewise(VectorOperators.XOR, m1));
        }
        // Accumulators go through the scratch tile: passing them to a call would make C2 box them.
        a00.intoArray(scratch, 0);
        a01.intoArray(scratch, VL);
        a10.intoArray(scratch, NR);
        a11.intoArray(scratch, NR + VL);
        a20.intoArray(scratch, 2 * NR);
        a21.intoArray(scratch, 2 * NR + VL);
        a30.intoArray(scratch, 3 * NR);
        a31.intoArray(scratch, 3 * NR + VL);
        flush(scratch, MR, outI, outF, o, ldo, cols);
    }

    private static void tile1(int[] d, int base, int k, boolean zeros, int[] init, int col0, int[] x, int xa,
                              int[] outI, float[] outF, int o, int cols, int[] scratch) {
        IntVector a0 = IntVector.fromArray(I, init, col0);
        IntVector a1 = IntVector.fromArray(I, init, col0 + VL);
        for (int p = 0, q = base; p < k; p++, q += WORDS * NR) {
            IntVector v = IntVector.broadcast(I, x[xa + p]);
            IntVector s0 = IntVector.fromArray(I, d, q);
            IntVector s1 = IntVector.fromArray(I, d, q + VL);
            IntVector r0 = ONE.lanewise(VectorOperators.LSHL, s0).lanewise(VectorOperators.LSHR, 1);
            IntVector t0 = v.add(r0).lanewise(VectorOperators.ASHR, s0);
            IntVector r1 = ONE.lanewise(VectorOperators.LSHL, s1).lanewise(VectorOperators.LSHR, 1);
            IntVector t1 = v.add(r1).lanewise(VectorOperators.ASHR, s1);
            if (zeros) {
                t0 = t0.and(IntVector.fromArray(I, d, q + 2 * NR));
                t1 = t1.and(IntVector.fromArray(I, d, q + 2 * NR + VL));
            }
            a0 = a0.add(t0.lanewise(VectorOperators.XOR, IntVector.fromArray(I, d, q + NR)));
            a1 = a1.add(t1.lanewise(VectorOperators.XOR, IntVector.fromArray(I, d, q + NR + VL)));
        }
        a0.intoArray(scratch, 0);
        a1.intoArray(scratch, VL);
        flush(scratch, 1, outI, outF, o, 0, cols);
    }

    /** Writes rows × cols of the scratch tile (row stride NR) at o, as int or as float ·2^-16. */
    private static void flush(int[] t, int rows, int[] outI, float[] outF, int o, int ldo, int cols) {
        for (int r = 0; r < rows; r++) {
            int src = r * NR;
            int dst = o + r * ldo;
            if (outI != null) {
                System.arraycopy(t, src, outI, dst, cols);
            } else if (cols == NR) {
                for (int v = 0; v < NR; v += VL) {
                    ((FloatVector) IntVector.fromArray(I, t, src + v).convert(VectorOperators.I2F, 0))
                            .mul(FixedPoint.ULP).intoArray(outF, dst + v);
                }
            } else {
                for (int c = 0; c < cols; c++) outF[dst + c] = t[src + c] * FixedPoint.ULP;
            }
        }
    }

    private static void checkArgs(int m, Packed w, int xLen, int xOff, int ldx, int outLen, int outOff, int ldo) {
        if (m < 0) throw new IllegalArgumentException("MatShift: negative row count " + m);
        if (ldx < w.k || ldo < w.n || xOff < 0 || outOff < 0) {
            throw new IllegalArgumentException("MatShift: bad offsets or leading dims (xOff=" + xOff + ", ldx=" + ldx
                    + ", outOff=" + outOff + ", ldo=" + ldo + ") for [" + m + ", " + w.k + "] x [" + w.k + ", " + w.n + "]");
        }
        if (m == 0) return;
        if ((long) xOff + (long) (m - 1) * ldx + w.k > xLen) {
            throw new IllegalArgumentException("MatShift: input of length " + xLen + " too short for " + m + " rows of "
                    + w.k + " (offset " + xOff + ", ld " + ldx + ")");
        }
        if ((long) outOff + (long) (m - 1) * ldo + w.n > outLen) {
            throw new IllegalArgumentException("MatShift: output of length " + outLen + " too short for " + m
                    + " rows of " + w.n + " (offset " + outOff + ", ld " + ldo + ")");
        }
    }

    private static final class Buffers {
        final int[] tile = new int[MR * NR];
        int[] x = new int[0];

        int[] x(int size) {
            if (x.length < size) x = new int[size];
            return x;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);
}
