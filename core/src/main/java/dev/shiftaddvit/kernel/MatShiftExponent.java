package dev.shiftaddvit.kernel;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Shift expert's product done as a shift of the exponent, the fast deployment kernel:
 * <pre>
 *   out[i, j] = Q(b)[j] + Σ_k Q(x[i, k]) · sign[j, k] · 2^shift[j, k]   (float sum in k order)
 * </pre>
 * with Q the Q16.16 activation quantizer of the float simulation ({@link FixedPoint#quantize}).
 *
 * <p>Multiplying a float by ±2^-s is subtracting s from its exponent field and flipping its sign bit,
 * and both are one integer add on the float's bits: bits + ((sign &lt; 0) &lt;&lt; 31) − (s &lt;&lt; 23), the
 * sign term carrying out of the word. So each weight costs one integer add and one float add, no
 * multiply and no rounding: every term is exact, as in the simulation's float GEMM, and the result
 * differs from it only by the order of the float additions. The fixed-point {@link MatShift}
 * (shift, rounding add, XOR and integer add per weight, the variable shift being the slow one) is the
 * bit-exact model of upstream's int32 kernels; this one is the CPU's fast form of the same layer.
 *
 * <p>The add is exact only while the exponent stays normal. Every nonzero Q(x) is at least 2^-16
 * (exponent field ≥ 111) and at most 2^15, and shifts are at most 31 right, so only zero activations
 * need care: they are replaced by {@link #ZERO_STANDIN} = 2^-95 (exponent field 32), whose terms are
 * at most 2^-95 and vanish into any sum holding a real term (they sit more than 60 binades below it),
 * so an output can differ from the exact sum only when all of its terms are zero, and then by at most
 * K·2^-95. A NaN activation makes its whole output row NaN, as in the simulation.
 *
 * <p>Packed layout ({@link #pack}): columns in slivers of NR = 2 vectors; per sliver and k, NR
 * exponent/sign addends, then (only in slivers with a zero weight) NR AND masks that turn a zero
 * weight's term into +0. Register tile 4 rows × 2 vectors; blocks of MB rows are quantized into a
 * per-thread buffer of float bits and stay cache resident while every sliver passes over them; row
 * blocks are split over {@link Parallel}. Accumulators are stored inside the tile method: passing
 * vectors across a call boundary makes C2 box them (see {@link MatShift}).
 */
public final class MatShiftExponent {
    static final VectorSpecies<Integer> I = VectorWidth.INT;
    static final VectorSpecies<Float> F = VectorWidth.FLOAT;
    static final int VL = I.length();
    static final int NR = 2 * VL;
    static final int MR = 4;
    static final int MB = 64;
    /** Largest right shift: 2^-16 shifted by it stays a normal float. */
    public static final int MAX_RIGHT_SHIFT = 31;
    /** Bits of 2^-95, the stand-in for a zero activation (see the class comment). */
    static final int ZERO_STANDIN = 32 << 23;
    private static final int EXPONENT_MASK = 0x7F800000;
    private static final long PARALLEL_MIN_OPS = 1L << 18;

    private MatShiftExponent() {
    }

    /** Shift weights prepacked for the kernel; immutable, shareable across threads. */
    public static final class Packed {
        private final int n;
        private final int k;
        private final int slivers;
        /** Per sliver: [k][NR] addends, then [k][NR] AND masks if the sliver has a zero weight. */
        final int[][] data;
        /** [slivers·NR]: Q(b) per column, 0 without bias and in padding. */
        final float[] init;

        Packed(int n, int k, int[][] data, float[] init) {
            this.n = n;
            this.k = k;
            this.slivers = data.length;
            this.data = data;
            this.init = init;
        }

        public int n() {
            return n;
        }

        public int k() {
            return k;
        }

        /** Bytes held by the packed arrays. */
        public long bytes() {
            long b = 4L * init.length;
            for (int[] d : data) b += 4L * d.length;
            return b;
        }
    }

    /**
     * Packs sign [N, K] ∈ {−1, 0, 1} and shift [N, K] ∈ [−31, 0] (weight sign·2^shift), row-major as a
     * PyTorch Linear weight, with an optional float bias [N] (quantized here with Q; null for none).
     *
     * @throws IllegalArgumentException on bad sizes, a sign outside {−1, 0, 1} or a shift outside
     *                                  [−31, 0], naming the row and column.
     */
    public static Packed pack(int n, int k, byte[] sign, byte[] shift, float[] bias) {
        if (n < 0 || k < 0) {
            throw new IllegalArgumentException("MatShiftExponent.pack: negative size n=" + n + " k=" + k);
        }
        long size = (long) n * k;
        if (sign.length != size || shift.length != size) {
            throw new IllegalArgumentException("MatShiftExponent.pack: expected " + size + " signs and shifts for ["
                    + n + ", " + k + "], got " + sign.length + " and " + shift.length);
        }
        if (bias != null && bias.length != n) {
            throw new IllegalArgumentException("MatShiftExponent.pack: bias has " + bias.length + " entries, expected "
                    + n);
        }
        int slivers = (n + NR - 1) / NR;
        if ((long) k * 2 * NR > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("MatShiftExponent.pack: k=" + k + " too large to pack");
        }
        int[][] data = new int[slivers][];
        float[] init = new float[slivers * NR];
        for (int sl = 0; sl < slivers; sl++) {
            int cols = Math.min(NR, n - sl * NR);
            boolean zeros = false;
            for (int lane = 0; lane < cols && !zeros; lane++) {
                int row = (sl * NR + lane) * k;
                for (int p = 0; p < k && !zeros; p++) zeros = sign[row + p] == 0;
            }
            int[] d = new int[(zeros ? 2 : 1) * k * NR];
            for (int lane = 0; lane < cols; lane++) {
                int j = sl * NR + lane;
                for (int p = 0; p < k; p++) {
                    int s = sign[j * k + p];
                    int e = shift[j * k + p];
                    if (s < -1 || s > 1) {
                        throw new IllegalArgumentException("MatShiftExponent.pack: sign at [" + j + ", " + p + "] is "
                                + s + ", expected -1, 0 or 1");
                    }
                    if (e > 0 || e < -MAX_RIGHT_SHIFT) {
                        throw new IllegalArgumentException("MatShiftExponent.pack: shift at [" + j + ", " + p + "] is "
                                + e + ", expected -" + MAX_RIGHT_SHIFT + " to 0");
                    }
                    d[p * NR + lane] = s == 0 ? 0 : addend(s, e);
                    if (zeros) d[(k + p) * NR + lane] = s == 0 ? 0 : -1;
                }
                init[j] = bias == null ? 0f : FixedPoint.quantize(bias[j]);
            }
            data[sl] = d;
        }
        return new Packed(n, k, data, init);
    }

    /** The integer that, added to a float's bits, multiplies it by sign·2^shift. */
    static int addend(int sign, int shift) {
        return (sign < 0 ? Integer.MIN_VALUE : 0) + (shift << 23);
    }

    /** out[i, :] for rows i in [0, m) from float activations x [m, K] with leading dim ldx (quantized here). */
    public static void forward(int m, Packed w, float[] x, int xOff, int ldx, float[] out, int outOff, int ldo) {
        if (m < 0 || ldx < w.k || ldo < w.n || xOff < 0 || outOff < 0
                || (m > 0 && ((long) xOff + (long) (m - 1) * ldx + w.k > x.length
                || (long) outOff + (long) (m - 1) * ldo + w.n > out.length))) {
            throw new IllegalArgumentException("MatShiftExponent.forward: m=" + m + " [" + w.n + ", " + w.k
                    + "] with ldx=" + ldx + " ldo=" + ldo + " does not fit arrays of " + x.length + " and "
                    + out.length);
        }
        if (m == 0 || w.n == 0) return;
        long ops = (long) m * w.n * Math.max(1, w.k);
        int tiles = (m + MR - 1) / MR;
        if (ops < PARALLEL_MIN_OPS || tiles == 1) {
            rows(w, x, xOff, ldx, out, outOff, ldo, 0, m);
            return;
        }
        long perTile = (long) MR * w.n * Math.max(1, w.k);
        int minChunk = (int) Math.max(1, Math.min(tiles, PARALLEL_MIN_OPS / perTile));
        Parallel.forRange(tiles, minChunk, (t0, t1) -> rows(w, x, xOff, ldx, out, outOff, ldo, t0 * MR,
                Math.min(m, t1 * MR)));
    }

    private static void rows(Packed w, float[] x, int xOff, int ldx, float[] out, int outOff, int ldo, int r0, int r1) {
        int k = w.k;
        Buffers buf = BUFFERS.get();
        int[] bits = buf.bits(MB * k);
        for (int b0 = r0; b0 < r1; b0 += MB) {
            int rows = Math.min(MB, r1 - b0);
            boolean nan = false;
            for (int r = 0; r < rows; r++) nan |= activationBits(x, xOff + (b0 + r) * ldx, buf.row(k), bits, r * k, k);
            block(w, bits, rows, out, outOff + b0 * ldo, ldo, buf.tile);
            if (nan) {
                for (int r = 0; r < rows; r++) {
                    int xo = xOff + (b0 + r) * ldx;
                    for (int p = 0; p < k; p++) {
                        if (Float.isNaN(x[xo + p])) {
                            Arrays.fill(out, outOff + (b0 + r) * ldo, outOff + (b0 + r) * ldo + w.n, Float.NaN);
                            break;
                        }
                    }
                }
            }
        }
    }

    /**
     * bits[dst + p] = bits of Q(x[src + p]) with zeros replaced by the stand-in (q: k floats of scratch);
     * returns whether a NaN was seen.
     */
    static boolean activationBits(float[] x, int src, float[] q, int[] bits, int dst, int k) {
        FixedPoint.quantize(x, src, q, 0, k);
        boolean nan = false;
        int p = 0;
        IntVector standin = IntVector.broadcast(I, ZERO_STANDIN);
        for (; p <= k - VL; p += VL) {
            FloatVector v = FloatVector.fromArray(F, q, p);
            nan |= v.test(VectorOperators.IS_NAN).anyTrue();
            IntVector b = v.reinterpretAsInts();
            b.blend(standin, b.and(EXPONENT_MASK).eq(0)).intoArray(bits, dst + p);
        }
        for (; p < k; p++) {
            nan |= Float.isNaN(q[p]);
            bits[dst + p] = standinBits(q[p]);
        }
        return nan;
    }

    /** Bits of q, or of the zero stand-in when q is ±0. */
    static int standinBits(float q) {
        int b = Float.floatToRawIntBits(q);
        return (b & EXPONENT_MASK) == 0 ? ZERO_STANDIN : b;
    }

    private static void block(Packed w, int[] bits, int rows, float[] out, int oOff, int ldo, float[] tile) {
        int k = w.k;
        for (int sl = 0; sl < w.slivers; sl++) {
            int[] d = w.data[sl];
            boolean z = d.length > k * NR;
            int col0 = sl * NR;
            int cols = Math.min(NR, w.n - col0);
            int r = 0;
            for (; r + MR <= rows; r += MR) {
                int o = oOff + r * ldo + col0;
                if (z) tile4z(d, k, w.init, col0, bits, r * k, out, o, ldo, cols, tile);
                else tile4(d, k, w.init, col0, bits, r * k, out, o, ldo, cols, tile);
            }
            for (; r < rows; r++) tile1(d, k, z, w.init, col0, bits, r * k, out, oOff + r * ldo + col0, cols, tile);
        }
    }

    private static void tile4(int[] d, int k, float[] init, int col0, int[] x, int xa, float[] out, int o, int ldo,
                              int cols, float[] tile) {
        FloatVector a00 = FloatVector.fromArray(F, init, col0);
        FloatVector a01 = FloatVector.fromArray(F, init, col0 + VL);
        FloatVector a10 = a00, a11 = a01, a20 = a00, a21 = a01, a30 = a00, a31 = a01;
        int x0 = xa, x1 = xa + k, x2 = xa + 2 * k, x3 = xa + 3 * k;
        for (int p = 0, q = 0; p < k; p++, q += NR) {
            IntVector e0 = IntVector.fromArray(I, d, q);
            IntVector e1 = IntVector.fromArray(I, d, q + VL);
            IntVector v = IntVector.broadcast(I, x[x0 + p]);
            a00 = a00.add(v.add(e0).reinterpretAsFloats());
            a01 = a01.add(v.add(e1).reinterpretAsFloats());
            v = IntVector.broadcast(I, x[x1 + p]);
            a10 = a10.add(v.add(e0).reinterpretAsFloats());
            a11 = a11.add(v.add(e1).reinterpretAsFloats());
            v = IntVector.broadcast(I, x[x2 + p]);
            a20 = a20.add(v.add(e0).reinterpretAsFloats());
            a21 = a21.add(v.add(e1).reinterpretAsFloats());
            v = IntVector.broadcast(I, x[x3 + p]);
            a30 = a30.add(v.add(e0).reinterpretAsFloats());
            a31 = a31.add(v.add(e1).reinterpretAsFloats());
        }
        boolean full = cols == NR;
        float[] dst = full ? out : tile;
        int s = full ? ldo : NR;
        int b = full ? o : 0;
        a00.intoArray(dst, b);
        a01.intoArray(dst, b + VL);
        a10.intoArray(dst, b + s);
        a11.intoArray(dst, b + s + VL);
        a20.intoArray(dst, b + 2 * s);
        a21.intoArray(dst, b + 2 * s + VL);
        a30.intoArray(dst, b + 3 * s);
        a31.intoArray(dst, b + 3 * s + VL);
        if (!full) flush(tile, MR, out, o, ldo, cols);
    }

    private static void tile4z(int[] d, int k, float[] init, int col0, int[] x, int xa, float[] out, int o, int ldo,
                               int cols, float[] tile) {
        FloatVector a00 = FloatVector.fromArray(F, init, col0);
        FloatVector a01 = FloatVector.fromArray(F, init, col0 + VL);
        FloatVector a10 = a00, a11 = a01, a20 = a00, a21 = a01, a30 = a00, a31 = a01;
        int x0 = xa, x1 = xa + k, x2 = xa + 2 * k, x3 = xa + 3 * k;
        int masks = k * NR;
        for (int p = 0, q = 0; p < k; p++, q += NR) {
            IntVector e0 = IntVector.fromArray(I, d, q);
            IntVector e1 = IntVector.fromArray(I, d, q + VL);
            IntVector z0 = IntVector.fromArray(I, d, masks + q);
            IntVector z1 = IntVector.fromArray(I, d, masks + q + VL);
            IntVector v = IntVector.broadcast(I, x[x0 + p]);
            a00 = a00.add(v.add(e0).and(z0).reinterpretAsFloats());
            a01 = a01.add(v.add(e1).and(z1).reinterpretAsFloats());
            v = IntVector.broadcast(I, x[x1 + p]);
            a10 = a10.add(v.add(e0).and(z0).reinterpretAsFloats());
            a11 = a11.add(v.add(e1).and(z1).reinterpretAsFloats());
            v = IntVector.broadcast(I, x[x2 + p]);
            a20 = a20.add(v.add(e0).and(z0).reinterpretAsFloats());
            a21 = a21.add(v.add(e1).and(z1).reinterpretAsFloats());
            v = IntVector.broadcast(I, x[x3 + p]);
            a30 = a30.add(v.add(e0).and(z0).reinterpretAsFloats());
            a31 = a31.add(v.add(e1).and(z1).reinterpretAsFloats());
        }
        boolean full = cols == NR;
        float[] dst = full ? out : tile;
        int s = full ? ldo : NR;
        int b = full ? o : 0;
        a00.intoArray(dst, b);
        a01.intoArray(dst, b + VL);
        a10.intoArray(dst, b + s);
        a11.intoArray(dst, b + s + VL);
        a20.intoArray(dst, b + 2 * s);
        a21.intoArray(dst, b + 2 * s + VL);
        a30.intoArray(dst, b + 3 * s);
        a31.intoArray(dst, b + 3 * s + VL);
        if (!full) flush(tile, MR, out, o, ldo, cols);
    }

    private static void tile1(int[] d, int k, boolean z, float[] init, int col0, int[] x, int xa, float[] out, int o,
                              int cols, float[] tile) {
        FloatVector a0 = FloatVector.fromArray(F, init, col0);
        FloatVector a1 = FloatVector.fromArray(F, init, col0 + VL);
        if (z) {
            int masks = k * NR;
            for (int p = 0, q = 0; p < k; p++, q += NR) {
                IntVector v = IntVector.broadcast(I, x[xa + p]);
                a0 = a0.add(v.add(IntVector.fromArray(I, d, q)).and(IntVector.fromArray(I, d, masks + q))
                        .reinterpretAsFloats());
                a1 = a1.add(v.add(IntVector.fromArray(I, d, q + VL)).and(IntVector.fromArray(I, d, masks + q + VL))
                        .reinterpretAsFloats());
            }
        } else {
            for (int p = 0, q = 0; p < k; p++, q += NR) {
                IntVector v = IntVector.broadcast(I, x[xa + p]);
                a0 = a0.add(v.add(IntVector.fromArray(I, d, q)).reinterpretAsFloats());
                a1 = a1.add(v.add(IntVector.fromArray(I, d, q + VL)).reinterpretAsFloats());
            }
        }
        a0.intoArray(tile, 0);
        a1.intoArray(tile, VL);
        flush(tile, 1, out, o, 0, cols);
    }

    private static void flush(float[] tile, int rows, float[] out, int o, int ldo, int cols) {
        for (int r = 0; r < rows; r++) System.arraycopy(tile, r * NR, out, o + r * ldo, cols);
    }

    /** Per-thread buffers: quantized activation bits of a row block, one quantized row, and an edge tile. */
    private static final class Buffers {
        private int[] bits = new int[0];
        private float[] row = new float[0];
        final float[] tile = new float[MR * NR];

        int[] bits(int size) {
            if (bits.length < size) bits = new int[size];
            return bits;
        }

        float[] row(int size) {
            if (row.length < size) row = new float[size];
            return row;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);
}
