package dev.shiftaddvit.bench;

import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Parallel;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Probe for issue 13's int16 route: a Shift expert written in the loop shape HotSpot C2 turns into
 * AVX512-VNNI {@code vpdpwssd} ({@code out[j] += a[2j]·b[2j] + a[2j+1]·b[2j+1]} over {@code short[]}),
 * timed against {@link Gemm#nt} on the four upstream MatShift shapes, one thread.
 *
 * <p>Weights ±2^e are stored as k-pairs interleaved per output column; the shape needs both operands
 * indexed by the output lane, so each row's activation pair is replicated across a {@code short[2N]}
 * (a broadcast scalar breaks C2's match). The "no replication" column keeps that array fixed and is
 * the loop's ceiling. Values do not affect the timing; this is a speed probe, not a kernel.
 *
 * <p>Run: {@code java ... dev.shiftaddvit.bench.Int16ShiftProbe} (compare with {@code -XX:-UseSuperWord}
 * to see that C2 vectorises the loop).
 */
public final class Int16ShiftProbe {
    private static final int[][] SHAPES = {{3136, 64, 512}, {3136, 512, 64}, {784, 128, 1024}, {784, 1024, 128}};

    private Int16ShiftProbe() {
    }

    public static void main(String[] args) {
        Parallel.setThreads(1);
        System.out.println("CPU: " + GemmShootout.cpuModel() + ", " + GemmShootout.species() + ", 1 thread");
        System.out.println("| (M, K, N) | Gemm.nt ms | int16 ms | GEMM / int16 | int16, no replication ms | GEMM / that | int16 products/ns |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|");
        SplittableRandom rnd = new SplittableRandom(13);
        for (int[] s : SHAPES) {
            int m = s[0], k = s[1], n = s[2];
            float[] x = GemmShootout.random(rnd, m * k);
            float[] w = GemmShootout.random(rnd, n * k);
            float[] y = new float[m * n];
            short[] xq = new short[m * k];
            short[] w2 = new short[k * n];
            for (int i = 0; i < xq.length; i++) xq[i] = (short) (rnd.nextInt(255) - 127);
            for (int i = 0; i < w2.length; i++) w2[i] = (short) ((rnd.nextBoolean() ? 1 : -1) << rnd.nextInt(15));
            short[] rep = new short[2 * n];
            int[] acc = new int[n];
            int[] out = new int[m * n];
            double gemm = bestMs(() -> Gemm.nt(m, n, k, x, 0, k, w, 0, k, y, 0, n, false));
            double int16 = bestMs(() -> replicated(m, k, n, xq, w2, rep, acc, out));
            double ceiling = bestMs(() -> fixedPair(m, k, n, w2, rep, acc, out));
            System.out.printf(Locale.ROOT, "| (%d, %d, %d) | %.3f | %.3f | %.2f | %.3f | %.2f | %.1f |%n", m, k, n,
                    gemm, int16, gemm / int16, ceiling, gemm / ceiling, (double) m * k * n / (int16 * 1e6));
        }
    }

    private static void replicated(int m, int k, int n, short[] xq, short[] w2, short[] rep, int[] acc, int[] out) {
        for (int r = 0; r < m; r++) {
            Arrays.fill(acc, 0);
            for (int p = 0; p < k / 2; p++) {
                short a0 = xq[r * k + 2 * p];
                short a1 = xq[r * k + 2 * p + 1];
                for (int j = 0; j < n; j++) {
                    rep[2 * j] = a0;
                    rep[2 * j + 1] = a1;
                }
                pairMac(n, w2, p * 2 * n, rep, acc);
            }
            System.arraycopy(acc, 0, out, r * n, n);
        }
    }

    private static void fixedPair(int m, int k, int n, short[] w2, short[] rep, int[] acc, int[] out) {
        for (int r = 0; r < m; r++) {
            Arrays.fill(acc, 0);
            for (int p = 0; p < k / 2; p++) pairMac(n, w2, p * 2 * n, rep, acc);
            System.arraycopy(acc, 0, out, r * n, n);
        }
    }

    /** The MulAddS2I shape. */
    private static void pairMac(int n, short[] w, int off, short[] rep, int[] acc) {
        for (int j = 0; j < n; j++) acc[j] += w[off + 2 * j] * rep[2 * j] + w[off + 2 * j + 1] * rep[2 * j + 1];
    }

    private static double bestMs(Runnable body) {
        long warm = System.nanoTime() + 1_500_000_000L;
        while (System.nanoTime() < warm) body.run();
        double best = Double.MAX_VALUE;
        for (int sample = 0; sample < 5; sample++) {
            int iters = 0;
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < 300_000_000L) {
                body.run();
                iters++;
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e6 / iters);
        }
        return best;
    }
}
