package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** Holds the vectorised {@link MatShift} against {@link MatShiftReference} and against exact arithmetic. */
class MatShiftTest {
    private static final int[] MS = {0, 1, 2, 3, 4, 5, 7, 9, 13};
    private static final int[] NS = {0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 65, 97};
    private static final int[] KS = {0, 1, 3, 16, 31, 33};

    /** Random codes: shifts in [minShift, 0], zero signs with probability pZero. */
    private static void codes(SplittableRandom rnd, byte[] sign, byte[] shift, int minShift, double pZero) {
        for (int i = 0; i < sign.length; i++) {
            sign[i] = (byte) (rnd.nextDouble() < pZero ? 0 : rnd.nextBoolean() ? 1 : -1);
            shift[i] = (byte) -rnd.nextInt(-minShift + 1);
        }
    }

    /** One case with offsets and padded leading dimensions; the padding of out must stay untouched. */
    private static void check(int m, int n, int k, int minShift, double pZero, boolean bias, boolean fullRange,
                              long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] sign = new byte[n * k];
        byte[] shift = new byte[n * k];
        codes(rnd, sign, shift, minShift, pZero);
        int[] b = null;
        if (bias) {
            b = new int[n];
            for (int j = 0; j < n; j++) b[j] = rnd.nextInt(-(1 << 20), 1 << 20);
        }
        int xOff = 3, ldx = k + 2, oOff = 5, ldo = n + 3;
        int[] x = new int[xOff + Math.max(0, m) * ldx + 1];
        for (int i = 0; i < x.length; i++) x[i] = fullRange ? rnd.nextInt() : rnd.nextInt(-(1 << 18), 1 << 18);
        int[] expected = new int[oOff + m * ldo + 2];
        for (int i = 0; i < expected.length; i++) expected[i] = 0x5EED;
        int[] actual = expected.clone();
        MatShiftReference.matShift(m, n, k, x, xOff, ldx, sign, shift, b, expected, oOff, ldo);
        MatShift.Packed packed = MatShift.pack(n, k, sign, shift, b);
        MatShift.matShift(m, packed, x, xOff, ldx, actual, oOff, ldo);
        String what = "m=" + m + " n=" + n + " k=" + k + " pZero=" + pZero + " bias=" + bias;
        assertArrayEquals(expected, actual, what);

        float[] expectedF = new float[expected.length];
        float[] actualF = new float[expected.length];
        MatShiftReference.matShiftToFloat(m, n, k, x, xOff, ldx, sign, shift, b, expectedF, oOff, ldo);
        MatShift.matShiftToFloat(m, packed, x, xOff, ldx, actualF, oOff, ldo);
        assertArrayEquals(expectedF, actualF, what + " (float)");
    }

    @Test
    void matchesReferenceOnTinyAndOddShapes() {
        long seed = 1;
        for (int m : MS) {
            for (int n : NS) {
                for (int k : KS) {
                    check(m, n, k, -14, 0.0, (seed & 1) == 0, false, seed++);
                    check(m, n, k, -14, 0.25, (seed & 1) == 0, false, seed++);
                }
            }
        }
    }

    @Test
    void matchesReferenceWithWrapAroundAndSaturatedShifts() {
        // Full-range int32 inputs overflow the accumulator and the rounding add: both must wrap identically.
        // Exponents down to -40 exercise the zero terms beyond a right shift of 31.
        check(9, 37, 45, -40, 0.1, true, true, 11);
        check(6, 16, 200, -31, 0.0, false, true, 12);
        check(5, 48, 64, 0, 0.3, true, true, 13);
    }

    @Test
    void matchesReferenceOnLargerShapesThroughThePool() {
        check(203, 40, 300, -14, 0.05, true, false, 21);
        check(130, 129, 65, -14, 0.0, false, false, 22);
        check(67, 1, 700, -14, 0.5, true, false, 23);
        check(64 * 3 + 5, 18, 33, -14, 0.0, true, false, 24);
    }

    @Test
    void matchesReferenceOnTheUpstreamShapesScaledDown() {
        // The stage-1/2 fc1/fc2 shapes of spec §5.2 with M divided by 32.
        int[][] shapes = {{3136 / 32, 64, 512}, {3136 / 32, 512, 64}, {784 / 32, 128, 1024}, {784 / 32, 1024, 128}};
        long seed = 31;
        for (int[] s : shapes) check(s[0], s[2], s[1], -14, 0.02, true, false, seed++);
    }

    /**
     * The documented term: x·2^e rounded to nearest with ties toward +∞ (floor(x·2^e + 1/2), exact in long),
     * x for e = 0, 0 for e &lt; −31; where x + 2^(−e−1) exceeds Integer.MAX_VALUE the int32 add wraps.
     */
    private static int term(int x, int e) {
        int s = -e;
        if (s == 0) return x;
        if (s > 31) return 0;
        long sum = (long) x + (1L << (s - 1));
        if (sum > Integer.MAX_VALUE) return (int) sum >> s; // the documented wrap
        return (int) Math.floorDiv(sum, 1L << s);
    }

    @Test
    void edgeInputsAndShiftsRoundToNearest() {
        int[] xs = {Integer.MIN_VALUE, Integer.MAX_VALUE, FixedPoint.RAW_MAX, -1, 0, 1, 2, 3, -2, -3, -65536, 65535,
                12345, -12345, 1 << 30, -(1 << 30), (1 << 30) - 1, 0x18000, -0x18000, 0x8000, -0x8000, 0x7FFF, -0x7FFF};
        int[] es = {0, -1, -2, -14, -15, -16, -17, -30, -31, -32, -33, -100, -128};
        for (int s = -1; s <= 1; s++) {
            for (int e : es) {
                for (int xv : xs) {
                    // One weight (n = 1, k = 1) and one row.
                    int expected = s * term(xv, e);
                    int[] out = new int[1];
                    MatShift.matShift(1, MatShift.pack(1, 1, new byte[]{(byte) s}, new byte[]{(byte) e}, null),
                            new int[]{xv}, 0, 1, out, 0, 1);
                    assertEquals(expected, out[0], "sign " + s + " shift " + e + " x " + xv);
                    int[] ref = new int[1];
                    MatShiftReference.matShift(1, 1, 1, new int[]{xv}, 0, 1, new byte[]{(byte) s},
                            new byte[]{(byte) e}, null, ref, 0, 1);
                    assertEquals(expected, ref[0], "reference: sign " + s + " shift " + e + " x " + xv);
                }
            }
        }
        // Hand-checked ties and near ties: 3·2^-1 = 1.5 -> 2, -3·2^-1 = -1.5 -> -1, 0x8000·2^-16 = 0.5 -> 1,
        // 0x7FFF·2^-16 < 0.5 -> 0, -0x8000·2^-16 = -0.5 -> 0, -0x8001·2^-16 -> -1; a negative weight negates.
        assertEquals(2, term(3, -1));
        assertEquals(-1, term(-3, -1));
        assertEquals(1, term(0x8000, -16));
        assertEquals(0, term(0x7FFF, -16));
        assertEquals(0, term(-0x8000, -16));
        assertEquals(-1, term(-0x8001, -16));
        int[] out = new int[2];
        MatShift.matShift(1, MatShift.pack(2, 1, new byte[]{1, -1}, new byte[]{-16, -16}, null), new int[]{0x8000},
                0, 1, out, 0, 2);
        assertArrayEquals(new int[]{1, -1}, out);
        // No wrap anywhere in the saturated Q16.16 range for shifts down to -16.
        for (int e = 0; e >= -16; e--) {
            assertEquals((int) Math.floorDiv((long) FixedPoint.RAW_MAX + (e == 0 ? 0 : 1L << (-e - 1)), 1L << -e),
                    term(FixedPoint.RAW_MAX, e), "shift " + e);
        }
        // The same edges spread over a full vector tile (every lane a different shift and sign).
        int n = 2 * MatShift.NR + 3;
        byte[] sign = new byte[n];
        byte[] shift = new byte[n];
        for (int j = 0; j < n; j++) {
            sign[j] = (byte) (j % 3 - 1);
            shift[j] = (byte) es[j % es.length];
        }
        int m = xs.length;
        out = new int[m * n];
        MatShift.matShift(m, MatShift.pack(n, 1, sign, shift, null), xs, 0, 1, out, 0, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(sign[j] * term(xs[i], shift[j]), out[i * n + j], "x " + xs[i] + " lane " + j);
            }
        }
    }

    /**
     * Errors of MatShift against the exact Σ sign·x·2^e (exact in double here), in units 2^-16, for random
     * codes with the given sign rule (0: mixed, ±1: every nonzero weight that sign). Asserts every output
     * within nnz/2 units and returns the error less its expected tie bias (a tie, probability 2^-s for a
     * right shift s ≥ 1 on these uniform low bits, adds sign·1/2) as {mean, rms, rms / sqrt(mean nnz / 12)}.
     */
    private static double[] roundingErrors(int signs, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int m = 64, n = 40, k = 96;
        byte[] sign = new byte[n * k];
        byte[] shift = new byte[n * k];
        codes(rnd, sign, shift, -14, 0.1);
        if (signs != 0) for (int i = 0; i < sign.length; i++) sign[i] = (byte) (sign[i] == 0 ? 0 : signs);
        int[] x = new int[m * k];
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextInt(-(1 << 22), 1 << 22);
        int[] out = new int[m * n];
        MatShift.matShift(m, MatShift.pack(n, k, sign, shift, null), x, 0, k, out, 0, n);
        double sum = 0, sumSq = 0, sumNnz = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double exact = 0;
                double tieBias = 0;
                int nnz = 0;
                for (int p = 0; p < k; p++) {
                    int sg = sign[j * k + p];
                    if (sg == 0) continue;
                    nnz++;
                    exact += sg * Math.scalb((double) x[i * k + p], shift[j * k + p]);
                    if (shift[j * k + p] < 0) tieBias += sg * Math.scalb(0.5, shift[j * k + p]);
                }
                double err = out[i * n + j] - exact;
                assertTrue(Math.abs(err) <= 0.5 * nnz, "signs " + signs + " row " + i + " col " + j + ": error "
                        + err + " units > " + nnz + "/2");
                err -= tieBias;
                sum += err;
                sumSq += err * err;
                sumNnz += nnz;
            }
        }
        int outs = m * n;
        double rms = Math.sqrt(sumSq / outs);
        return new double[]{sum / outs, rms, rms / Math.sqrt(sumNnz / outs / 12)};
    }

    @Test
    void roundingErrorIsAtMostHalfAUnitPerTermAndCentred() {
        // Flooring (x >> s) fails all of these: a same-sign column drifts by ~nnz/2 units (mean ±40 here, half
        // the outputs beyond nnz/2) and mixed signs give an RMS of sqrt(nnz/3), twice the rounding's sqrt(nnz/12).
        for (int signs = -1; signs <= 1; signs++) {
            double[] e = roundingErrors(signs, 51 + signs);
            // The mean of 2560 outputs with spread ~sqrt(86/12) ≈ 2.7 units: |mean| ~ 0.05 once the tie bias
            // (≈ ±2.9 units for a same-sign column with shifts uniform in [-14, 0]) is taken out.
            assertTrue(Math.abs(e[0]) < 0.5, "signs " + signs + ": mean error " + e[0] + " units");
            assertTrue(e[2] < 1.3, "signs " + signs + ": rms error " + e[1] + " units, " + e[2] + "x sqrt(nnz/12)");
        }
    }

    @Test
    void floatForwardEqualsToFixedThenIntegerKernel() {
        SplittableRandom rnd = new SplittableRandom(41);
        int m = 150, n = 21, k = 70;
        byte[] sign = new byte[n * k];
        byte[] shift = new byte[n * k];
        codes(rnd, sign, shift, -14, 0.1);
        int[] b = new int[n];
        for (int j = 0; j < n; j++) b[j] = rnd.nextInt(-(1 << 16), 1 << 16);
        MatShift.Packed packed = MatShift.pack(n, k, sign, shift, b);
        int ldx = k + 1;
        float[] x = KernelTestSupport.randn(rnd, m * ldx, 2f, 0.1f);
        int[] xi = new int[x.length];
        FixedPointReference.toFixed(x, 0, xi, 0, x.length);
        float[] expected = new float[m * n];
        MatShiftReference.matShiftToFloat(m, n, k, xi, 0, ldx, sign, shift, b, expected, 0, n);
        float[] actual = new float[m * n];
        MatShift.forward(m, packed, x, 0, ldx, actual, 0, n);
        assertArrayEquals(expected, actual);
    }

    @Test
    void packedWeightsAreReusableAndReportTheirShape() {
        byte[] sign = {1, -1, 0, 1, 1, -1};
        byte[] shift = {0, -1, -14, -2, -3, 0};
        MatShift.Packed p = MatShift.pack(2, 3, sign, shift, new int[]{65536, -65536});
        assertEquals(2, p.n());
        assertEquals(3, p.k());
        assertArrayEquals(new int[]{65536, -65536}, p.bias());
        int[] x = {4 << 16, 8 << 16, 1 << 16};
        int[] out = new int[2];
        for (int rep = 0; rep < 2; rep++) {
            MatShift.matShift(1, p, x, 0, 3, out, 0, 2);
            // row 0: 4 - 4 + 0 + 1 = 1, row 1: 1 + 1 - 1 - 1 = 0, in units of 2^16
            assertArrayEquals(new int[]{1 << 16, 0}, out);
        }
        assertTrue(p.bytes() > 0);
    }

    @Test
    void rejectsBadCodesAndShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MatShift.pack(2, 2, new byte[]{1, 0, 2, 1}, new byte[4], null));
        assertTrue(e.getMessage().contains("[1, 0]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> MatShift.pack(2, 2, new byte[]{1, 0, 1, 1}, new byte[]{0, 0, 0, 3}, null));
        assertTrue(e.getMessage().contains("[1, 1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MatShift.pack(2, 2, new byte[3], new byte[4], null));
        assertThrows(IllegalArgumentException.class, () -> MatShift.pack(2, 2, new byte[4], new byte[4], new int[3]));
        MatShift.Packed p = MatShift.pack(2, 2, new byte[4], new byte[4], null);
        assertThrows(IllegalArgumentException.class, () -> MatShift.matShift(2, p, new int[3], 0, 2, new int[4], 0, 2));
        assertThrows(IllegalArgumentException.class, () -> MatShift.matShift(2, p, new int[4], 0, 2, new int[3], 0, 2));
        assertThrows(IllegalArgumentException.class, () -> MatShift.matShift(1, p, new int[4], 0, 1, new int[4], 0, 2));
    }
}
