package dev.shiftaddvit.kernel;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** MatAdd (add-only products with {0,1} codes) against its scalar twin, the float GEMM, and BitCodes packing. */
class MatAddTest {
    private static final int[] TOKENS = {0, 1, 2, 3, 7, 63, 64, 65, 130, 1025};
    private static final int[] BITS = {1, 3, 16, 63, 64};
    private static final int[] DIMS = {1, 3, 7, 8, 9, 16, 31, 32, 33, 64, 65};

    /** Random codes with a per-call density (0 = none set, 1 = all set). */
    private static BitCodes randomCodes(SplittableRandom rnd, int groups, int n, int r, double density) {
        BitCodes c = new BitCodes(groups, n, r);
        long[] w = c.tokenWords();
        for (int i = 0; i < w.length; i++) {
            long word = 0;
            for (int t = 0; t < r; t++) if (rnd.nextDouble() < density) word |= 1L << t;
            w[i] = word;
        }
        return c.buildRows();
    }

    @Test
    void bitCodesRoundTripAndRowsAgreeWithTokenWords() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int n : TOKENS) {
            for (int r : BITS) {
                BitCodes c = randomCodes(rnd, 3, n, r, 0.5);
                float[] f = c.toFloats();
                BitCodes back = BitCodes.fromFloats(f, 0, n * r, r, 3, n, r);
                assertArrayEquals(c.tokenWords(), back.tokenWords(), "n=" + n + " r=" + r);
                assertArrayEquals(c.rows(), back.rows(), "n=" + n + " r=" + r);
                long[] rows = c.rows();
                long pop = 0;
                for (int g = 0; g < 3; g++) {
                    for (int t = 0; t < r; t++) {
                        for (int k = 0; k < c.rowWords() * 64; k++) {
                            boolean inRow = (rows[c.rowOffset(g) + t * c.rowWords() + (k >>> 6)] >>> (k & 63) & 1L) != 0;
                            boolean expected = k < n && c.get(g, k, t);
                            assertEquals(expected, inRow, "g=" + g + " t=" + t + " k=" + k);
                            if (expected) pop++;
                        }
                    }
                }
                assertEquals(pop, c.popCount());
            }
        }
        BitCodes one = new BitCodes(1, 2, 64);
        one.set(0, 1, 63, true);
        assertEquals(Long.MIN_VALUE, one.tokenWords()[1]);
        assertEquals(1L << 1, one.rows()[63]);
        assertThrows(IllegalArgumentException.class, () -> new BitCodes(1, 1, 65));
        assertThrows(IllegalArgumentException.class, () -> new BitCodes(1, 1, 0));
    }

    @Test
    void simdMatchesScalarExactlyOverShapes() {
        SplittableRandom rnd = new SplittableRandom(2);
        for (int n : TOKENS) {
            for (int r : BITS) {
                for (int d : DIMS) {
                    double density = rnd.nextDouble();
                    BitCodes c = randomCodes(rnd, 1, n, r, density);
                    // token words with garbage above r must be ignored
                    long[] words = c.tokenWords().clone();
                    if (r < 64) for (int k = 0; k < n; k++) words[k] |= rnd.nextLong() << r;
                    int ldv = d + 3;
                    int vOff = 5;
                    float[] v = KernelTestSupport.randn(rnd, vOff + n * ldv + 2, 1f, 0.1f);
                    int ldt = d + 1;
                    float[] t = new float[2 + r * ldt];
                    float[] ts = new float[2 + r * ldt];
                    java.util.Arrays.fill(t, 7f);
                    java.util.Arrays.fill(ts, 7f);
                    MatAdd.transposedTimes(n, r, d, words, 0, v, vOff, ldv, t, 2, ldt);
                    MatAddReference.transposedTimes(n, r, d, words, 0, v, vOff, ldv, ts, 2, ldt);
                    assertArrayEquals(ts, t, "BtV n=" + n + " r=" + r + " d=" + d);

                    int ldp = d + 2;
                    float[] p = new float[1 + n * ldp];
                    float[] ps = new float[1 + n * ldp];
                    MatAdd.times(n, r, d, words, 0, ts, 2, ldt, p, 1, ldp);
                    MatAddReference.times(n, r, d, words, 0, ts, 2, ldt, ps, 1, ldp);
                    assertArrayEquals(ps, p, "BT n=" + n + " r=" + r + " d=" + d);
                }
            }
        }
    }

    @Test
    void matAddEqualsFloatMatmulWithBinaryMatrices() {
        SplittableRandom rnd = new SplittableRandom(3);
        int[][] shapes = {{1, 1, 1}, {5, 16, 32}, {7, 16, 33}, {64, 16, 32}, {65, 16, 31}, {196, 16, 32},
                {130, 64, 17}, {33, 5, 64}};
        for (int[] s : shapes) {
            int n = s[0];
            int r = s[1];
            int d = s[2];
            BitCodes c = randomCodes(rnd, 1, n, r, 0.5);
            float[] b = c.toFloats();   // [n, r]
            float[] v = KernelTestSupport.randn(rnd, n * d, 1f, 0f);
            float[] t = new float[r * d];
            MatAdd.transposedTimes(n, r, d, c.tokenWords(), 0, v, 0, d, t, 0, d);
            float[] tg = new float[r * d];
            GemmReference.tn(r, d, n, b, 0, r, v, 0, d, tg, 0, d, false);
            KernelTestSupport.assertClose(tg, t, 1e-5 * Math.sqrt(n), 1e-5, "BtV " + n + "x" + r + "x" + d);
            float[] tgf = new float[r * d];
            Gemm.tn(r, d, n, b, 0, r, v, 0, d, tgf, 0, d, false);
            KernelTestSupport.assertClose(tgf, t, 1e-5 * Math.sqrt(n), 1e-5, "BtV vs Gemm " + n + "x" + r + "x" + d);

            float[] p = new float[n * d];
            MatAdd.times(n, r, d, c.tokenWords(), 0, t, 0, d, p, 0, d);
            float[] pg = new float[n * d];
            GemmReference.nn(n, d, r, b, 0, r, t, 0, d, pg, 0, d, false);
            KernelTestSupport.assertClose(pg, p, 1e-5 * Math.sqrt(n * r), 1e-5, "BT " + n + "x" + r + "x" + d);
        }
        // exact where every partial sum is exact: small integers
        int n = 77;
        int r = 16;
        int d = 9;
        BitCodes c = randomCodes(rnd, 1, n, r, 0.5);
        float[] v = new float[n * d];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextInt(-50, 50);
        float[] t = new float[r * d];
        float[] tg = new float[r * d];
        MatAdd.transposedTimes(n, r, d, c.tokenWords(), 0, v, 0, d, t, 0, d);
        GemmReference.tn(r, d, n, c.toFloats(), 0, r, v, 0, d, tg, 0, d, false);
        assertArrayEquals(tg, t);
    }

    @Test
    void headsFormsMatchScalarTwinsAndSingleGroupCalls() {
        SplittableRandom rnd = new SplittableRandom(4);
        int[][] shapes = {{1, 1, 1, 1, 1}, {2, 3, 11, 16, 5}, {3, 2, 65, 16, 32}, {1, 5, 196, 16, 32},
                {2, 1, 0, 16, 8}, {2, 2, 9, 64, 33}};
        for (int[] s : shapes) {
            int batch = s[0];
            int heads = s[1];
            int n = s[2];
            int r = s[3];
            int d = s[4];
            int ld = heads * d + 3;
            BitCodes c = randomCodes(rnd, batch * heads, n, r, 0.4);
            float[] v = KernelTestSupport.randn(rnd, 2 + batch * n * ld, 1f, 0f);
            float[] t = new float[batch * heads * r * d];
            float[] ts = new float[t.length];
            MatAdd.transposedTimesHeads(c, heads, d, v, 2, ld, t, 0);
            MatAddReference.transposedTimesHeads(c, heads, d, v, 2, ld, ts, 0);
            String what = java.util.Arrays.toString(s);
            assertArrayEquals(ts, t, "BtV heads " + what);
            float[] p = new float[1 + batch * n * ld];
            float[] ps = new float[p.length];
            MatAdd.timesHeads(c, heads, d, t, 0, p, 1, ld);
            MatAddReference.timesHeads(c, heads, d, t, 0, ps, 1, ld);
            assertArrayEquals(ps, p, "BT heads " + what);
            for (int g = 0; g < batch * heads; g++) {
                int b = g / heads;
                int h = g % heads;
                float[] one = new float[r * d];
                MatAdd.transposedTimes(n, r, d, c.tokenWords(), c.tokenOffset(g), v, 2 + b * n * ld + h * d, ld,
                        one, 0, d);
                for (int i = 0; i < r * d; i++) assertEquals(one[i], t[g * r * d + i], what + " g=" + g);
            }
        }
    }

    @Test
    void upstreamShapesRunInParallelAndMatchScalar() {
        SplittableRandom rnd = new SplittableRandom(5);
        int[][] shapes = {{1, 3136, 32, 16}, {2, 784, 32, 16}, {5, 196, 32, 16}};   // (H, N, d, r), batch 1
        for (int[] s : shapes) {
            int heads = s[0];
            int n = s[1];
            int d = s[2];
            int r = s[3];
            BitCodes c = randomCodes(rnd, heads, n, r, 0.5);
            float[] v = KernelTestSupport.randn(rnd, n * heads * d, 1f, 0f);
            float[] t = new float[heads * r * d];
            float[] ts = new float[t.length];
            MatAdd.transposedTimesHeads(c, heads, d, v, 0, heads * d, t, 0);
            MatAddReference.transposedTimesHeads(c, heads, d, v, 0, heads * d, ts, 0);
            assertArrayEquals(ts, t);
            float[] p = new float[n * heads * d];
            float[] ps = new float[p.length];
            MatAdd.timesHeads(c, heads, d, t, 0, p, 0, heads * d);
            MatAddReference.timesHeads(c, heads, d, t, 0, ps, 0, heads * d);
            assertArrayEquals(ps, p);
        }
    }

    @Test
    void rejectsBadCodeLengthsAndHeadCounts() {
        float[] v = new float[4];
        long[] w = new long[4];
        assertThrows(IllegalArgumentException.class, () -> MatAdd.times(1, 65, 1, w, 0, v, 0, 1, v, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> MatAdd.transposedTimes(1, 0, 1, w, 0, v, 0, 1, v, 0, 1));
        BitCodes c = new BitCodes(3, 1, 4);
        assertThrows(IllegalArgumentException.class, () -> MatAdd.timesHeads(c, 2, 1, v, 0, v, 0, 1));
    }
}
