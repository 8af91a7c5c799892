package dev.shiftaddvit.kernel;

import static dev.shiftaddvit.kernel.KernelTestSupport.assertClose;
import static dev.shiftaddvit.kernel.KernelTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FlashAttentionTest {
    /** Key counts around the vector, tile and key-block edges (one block is 256 keys by default). */
    private static final int[] KEYS = {1, 3, 16, 17, 49, 255, 256, 257, 600};
    private static final int[] HEAD_DIMS = {1, 5, 16, 32, 40, 64};

    @Test
    void matchesTheScalarSoftmaxOverStridedHeadsAtEveryShape() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int m : KEYS) {
            for (int d : HEAD_DIMS) {
                int n = 11;
                int ld = 3 * d + 2;
                int off = 1 + d;
                float[] q = randn(rnd, off + n * ld, 1f, 0f);
                float[] kv = randn(rnd, 2 * off + m * ld, 1f, 0f);
                float scale = (float) (1 / Math.sqrt(d));
                int ldo = d + 3;
                float[] out = new float[2 + n * ldo];
                float[] expected = new float[out.length];
                FlashAttention.rows(0, n, m, d, scale, q, off, ld, kv, off, ld, kv, 2 * off, ld, out, 2, ldo);
                FlashAttentionReference.rows(0, n, m, d, scale, q, off, ld, kv, off, ld, kv, 2 * off, ld,
                        expected, 2, ldo);
                String at = "m=" + m + " d=" + d;
                assertClose(expected, out, 1e-6, 1e-4, at);
                for (int i = 0; i < n; i++) {
                    for (int c = d; c < ldo && 2 + i * ldo + c < out.length; c++) {
                        assertEquals(0f, out[2 + i * ldo + c], 0f, at + " wrote past row " + i);
                    }
                }
                assertEquals(0f, out[0], 0f, at + " wrote before its range");
            }
        }
    }

    @Test
    void keepsTheRunningMaximumWhenLaterKeyBlocksScoreHigher() {
        // scores rise along the keys (each block's maximum beats the last) and one row peaks in block 0
        int m = 3 * FlashAttention.KEY_BLOCK + 5;
        int d = 8;
        int n = 3;
        float[] q = new float[n * d];
        float[] k = new float[m * d];
        float[] v = randn(new SplittableRandom(9), m * d, 1f, 0f);
        for (int c = 0; c < d; c++) {
            q[c] = 1f;
            q[d + c] = -1f;
            q[2 * d + c] = c % 2 == 0 ? 0.5f : -0.5f;
        }
        for (int j = 0; j < m; j++) {
            for (int c = 0; c < d; c++) k[j * d + c] = 12f * j / m + (c == 0 ? 0.01f * j % 3 : 0f);
        }
        float[] out = new float[n * d];
        float[] expected = new float[n * d];
        FlashAttention.rows(0, n, m, d, 1f, q, 0, d, k, 0, d, v, 0, d, out, 0, d);
        FlashAttentionReference.rows(0, n, m, d, 1f, q, 0, d, k, 0, d, v, 0, d, expected, 0, d);
        assertClose(expected, out, 1e-5, 1e-4, "rising scores");
    }

    @Test
    void aRowGetsTheSameBitsHoweverTheRowsAreCut() {
        SplittableRandom rnd = new SplittableRandom(13);
        int n = 37;
        int m = 300;
        int d = 32;
        float[] q = randn(rnd, n * d, 1f, 0f);
        float[] k = randn(rnd, m * d, 1f, 0f);
        float[] v = randn(rnd, m * d, 1f, 0f);
        float[] whole = new float[n * d];
        float[] cut = new float[n * d];
        FlashAttention.rows(0, n, m, d, 0.2f, q, 0, d, k, 0, d, v, 0, d, whole, 0, d);
        for (int[] r : new int[][] {{0, 5}, {5, 6}, {6, 29}, {29, 37}}) {
            FlashAttention.rows(r[0], r[1], m, d, 0.2f, q, 0, d, k, 0, d, v, 0, d, cut, 0, d);
        }
        assertArrayEquals(whole, cut);
    }
}
