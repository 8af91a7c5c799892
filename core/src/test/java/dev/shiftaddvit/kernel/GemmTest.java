package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** Holds {@link Gemm} against {@link GemmReference} for the three forms over many shapes. */
class GemmTest {

    enum Form { NT, NN, TN }

    /** Functional view of one GEMM entry point. */
    interface GemmFn {
        void run(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                 float[] c, int cOff, int ldc, boolean accumulate);
    }

    private static GemmFn fast(Form f) {
        return switch (f) {
            case NT -> Gemm::nt;
            case NN -> Gemm::nn;
            case TN -> Gemm::tn;
        };
    }

    private static GemmFn reference(Form f) {
        return switch (f) {
            case NT -> GemmReference::nt;
            case NN -> GemmReference::nn;
            case TN -> GemmReference::tn;
        };
    }

    /**
     * Runs one case: random A, B, C with the given offsets and padding of the leading dimensions,
     * compares all of C (including the padding, which must stay untouched) with the reference.
     */
    private static void check(Form f, int m, int n, int k, int off, int pad, boolean acc, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        // Stored shapes: A is [m,k] (nt, nn) or [k,m] (tn); B is [n,k] (nt) or [k,n] (nn, tn).
        int aRows = f == Form.TN ? k : m;
        int aCols = f == Form.TN ? m : k;
        int bRows = f == Form.NT ? n : k;
        int bCols = f == Form.NT ? k : n;
        int lda = aCols + pad;
        int ldb = bCols + (pad * 3) % 7;
        int ldc = n + (pad * 5) % 11;
        int aOff = off, bOff = off * 2 + 1, cOff = off + 3;
        float[] a = random(rnd, aOff + Math.max(0, aRows - 1) * lda + aCols + pad);
        float[] b = random(rnd, bOff + Math.max(0, bRows - 1) * ldb + bCols + 2);
        float[] c0 = random(rnd, cOff + Math.max(0, m - 1) * ldc + n + 5);
        float[] expected = c0.clone();
        float[] actual = c0.clone();
        reference(f).run(m, n, k, a, aOff, lda, b, bOff, ldb, expected, cOff, ldc, acc);
        fast(f).run(m, n, k, a, aOff, lda, b, bOff, ldb, actual, cOff, ldc, acc);
        // Inputs are in [-1, 1): a dot product of length k has magnitude ~ sqrt(k); rounding
        // differences of the two summation orders grow like eps * sqrt(k) * that magnitude
        // (eps = 1.2e-7), so the tolerance is a few times eps * sqrt(k) * sqrt(k).
        float scale = (float) Math.sqrt(Math.max(1, k));
        float tol = 4e-7f * scale * scale + 1e-6f;
        for (int i = 0; i < actual.length; i++) {
            float e = expected[i];
            float g = actual[i];
            if (!(Math.abs(e - g) <= tol * (1f + Math.abs(c0[i])))) {
                fail(String.format("%s m=%d n=%d k=%d off=%d pad=%d acc=%b: c[%d] expected %s got %s (tol %s)",
                        f, m, n, k, off, pad, acc, i, e, g, tol));
            }
        }
    }

    private static float[] random(SplittableRandom rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }

    private static final int[] SMALL = {1, 2, 3, 5, 7, 8, 13, 16, 17, 33};

    @Test
    void tinyAndOddShapesAllForms() {
        long seed = 1;
        for (Form f : Form.values()) {
            for (int m : SMALL) {
                for (int n : SMALL) {
                    for (int k : new int[] {1, 3, 8, 17}) {
                        check(f, m, n, k, 0, 0, false, seed++);
                    }
                }
            }
        }
    }

    @Test
    void oddTailsWithOffsetsPaddingAndAccumulate() {
        int[] dims = {1, 7, 13, 17, 33, 65, 129};
        long seed = 100;
        for (Form f : Form.values()) {
            for (int m : dims) {
                for (int n : dims) {
                    int k = dims[(int) (seed % dims.length)];
                    check(f, m, n, k, (int) (seed % 5) * 3, (int) (seed % 4) * 3, seed % 2 == 0, seed);
                    seed++;
                }
            }
        }
    }

    @Test
    void fewRowsRunAsDotProductsAlsoWhenSplitOverThreads() {
        // m ≤ DOT_MAX_M takes the unpacked dot-product path; these n·k are large enough to go parallel.
        int[][] shapes = {{1, 1003, 300}, {2, 700, 257}, {5, 1000, 256}, {Gemm.DOT_MAX_M, 577, 192},
                {Gemm.DOT_MAX_M + 1, 577, 192}};
        long seed = 500;
        for (int[] sh : shapes) {
            check(Form.NT, sh[0], sh[1], sh[2], 7, 3, false, seed++);
            check(Form.NT, sh[0], sh[1], sh[2], 0, 0, true, seed++);
        }
    }

    @Test
    void shapesLargerThanBlocks() {
        // k beyond KC (several k blocks, unequal), m beyond MC, n beyond one NC block.
        int[][] shapes = {
                {Gemm.MC * 2 + 5, 40, Gemm.KC * 2 + 3},
                {37, Gemm.NC + Gemm.NR + 3, 70},
                {300, 77, Gemm.KC + 1},
                {Gemm.MC + 1, Gemm.NR * 3 + 1, 2 * Gemm.KC},
        };
        long seed = 1000;
        for (Form f : Form.values()) {
            for (int[] s : shapes) {
                check(f, s[0], s[1], s[2], 11, 5, false, seed++);
                check(f, s[0], s[1], s[2], 0, 0, true, seed++);
            }
        }
    }

    @Test
    void largeKWeightGradientAndTallSkinny() {
        long seed = 5000;
        check(Form.TN, 64, 72, 3000, 2, 1, false, seed++);
        check(Form.TN, 19, 131, 1500, 0, 0, true, seed++);
        check(Form.NT, 2000, 32, 128, 1, 3, false, seed++);
        check(Form.NN, 2000, 48, 64, 0, 2, true, seed++);
        check(Form.NT, 197, 576, 192, 0, 0, false, seed++);
    }

    @Test
    void zeroSizedDimensions() {
        for (Form f : Form.values()) {
            check(f, 5, 9, 0, 0, 0, false, 7);
            check(f, 5, 9, 0, 2, 1, true, 8);
            check(f, 0, 9, 4, 0, 0, false, 9);
            check(f, 4, 0, 4, 0, 0, false, 10);
        }
        assertThrows(IllegalArgumentException.class,
                () -> Gemm.nt(-1, 1, 1, new float[1], 0, 1, new float[1], 0, 1, new float[1], 0, 1, false));
    }

    @Test
    void calledFromInsideParallelTasks() {
        // Per-head attention pattern: small GEMMs issued from inside pool tasks run inline.
        int heads = 12;
        AtomicReference<Throwable> error = new AtomicReference<>();
        List<Object[]> cases = new ArrayList<>();
        for (int h = 0; h < heads; h++) {
            cases.add(new Object[] {Form.values()[h % 3], 49 + h * 13, 49 + h * 11, 16 + h * 4});
        }
        Parallel.forRange(heads, 1, (from, to) -> {
            for (int h = from; h < to; h++) {
                Object[] cs = cases.get(h);
                try {
                    check((Form) cs[0], (int) cs[1], (int) cs[2], (int) cs[3], h, h % 3, h % 2 == 0, 77 + h);
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                }
            }
        });
        if (error.get() != null) fail(error.get());
    }

    @Test
    void parallelLargeProblemMatchesAndIsDeterministic() {
        // Big enough to be split over the pool; the split must not change any result.
        int m = 333, n = 259, k = 300;
        SplittableRandom rnd = new SplittableRandom(42);
        float[] a = random(rnd, m * k);
        float[] b = random(rnd, n * k);
        float[] c1 = new float[m * n];
        float[] c2 = new float[m * n];
        Gemm.nt(m, n, k, a, 0, k, b, 0, k, c1, 0, n, false);
        Gemm.nt(m, n, k, a, 0, k, b, 0, k, c2, 0, n, false);
        for (int i = 0; i < c1.length; i++) assertEquals(c1[i], c2[i]);
        check(Form.NT, m, n, k, 0, 0, false, 43);
        check(Form.NN, m, n, k, 0, 0, false, 44);
        check(Form.TN, m, n, k, 0, 0, false, 45);
    }

    @Test
    void everyParallelScheduleMatches() {
        // The column split and the shared-packing schedule must give the same answers.
        String saved = Gemm.schedule;
        try {
            long seed = 9000;
            for (String schedule : new String[] {"columns", "shared", "auto"}) {
                Gemm.schedule = schedule;
                check(Form.NT, 333, 259, 300, 3, 2, false, seed++);
                check(Form.NN, 197, 200, 192, 0, 1, true, seed++);
                check(Form.TN, 150, 211, 700, 1, 0, false, seed++);
                check(Form.NT, 1500, 40, 96, 0, 0, true, seed++);
            }
        } finally {
            Gemm.schedule = saved;
        }
    }
    @Test
    void concurrentCallersFromPlainThreadsEachGetCorrectResults() throws Exception {
        // Two application threads calling at once: one takes the GEMM thread team, the other must
        // fall back to the shared pool; both results must be right.
        Form[] forms = Form.values();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread[] threads = new Thread[3];
        for (int t = 0; t < threads.length; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                try {
                    for (int i = 0; i < 12; i++) {
                        check(forms[(id + i) % 3], 97 + 31 * id, 65 + 16 * i, 120 + i, i % 3, i % 5, i % 2 == 0, 1000L * id + i);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw new AssertionError("a concurrent GEMM call failed", failure.get());
    }

    @Test
    void aBlockOfRowsGivesTheBitsOfTheWholeProductWhateverTheCut() {
        // 49 rows (a late PVT stage) cut into blocks of 25 and 24, under and over the dot path's 32-row limit
        for (int whole : new int[]{Gemm.DOT_MAX_M - 7, 49}) {
            int n = 49;
            int k = 37;
            SplittableRandom rnd = new SplittableRandom(whole);
            float[] a = random(rnd, whole * k);
            float[] b = random(rnd, n * k);
            float[] full = new float[whole * n];
            Gemm.nt(whole, n, k, a, 0, k, b, 0, k, full, 0, n, false);
            for (int block : new int[]{1, 7, 16, 25}) {
                float[] cut = new float[whole * n];
                for (int r0 = 0; r0 < whole; r0 += block) {
                    int rows = Math.min(block, whole - r0);
                    Gemm.ntBlock(whole, rows, n, k, a, r0 * k, k, b, 0, k, cut, r0 * n, n, false);
                }
                for (int i = 0; i < full.length; i++) {
                    assertEquals(Float.floatToRawIntBits(full[i]), Float.floatToRawIntBits(cut[i]),
                            whole + " rows in blocks of " + block + ": c[" + i + "]");
                }
            }
        }
    }

    @Test
    void aPrepackedWeightGivesTheBitsOfPackingItPerCall() {
        int[][] shapes = {{1, 5, 3}, {32, 40, 17}, {33, 40, 17}, {197, 192, 192}, {197, 576, 192}, {333, 259, 300},
                {40, 2 * Gemm.NR + 3, Gemm.KC + 5}, {1576, 192, 768}};
        long seed = 70;
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2], lda = k + 3, ldb = k + 1;
            SplittableRandom rnd = new SplittableRandom(seed++);
            float[] a = random(rnd, 2 + m * lda);
            float[] b = random(rnd, 1 + n * ldb);
            Gemm.PackedB packed = Gemm.packNt(n, k, b, 1, ldb);
            for (boolean acc : new boolean[]{false, true}) {
                float[] start = random(rnd, m * n);
                float[] perCall = start.clone();
                float[] once = start.clone();
                Gemm.nt(m, n, k, a, 2, lda, b, 1, ldb, perCall, 0, n, acc);
                Gemm.nt(m, packed, a, 2, lda, once, 0, n, acc);
                for (int i = 0; i < perCall.length; i++) {
                    assertEquals(Float.floatToRawIntBits(perCall[i]), Float.floatToRawIntBits(once[i]),
                            m + "x" + n + "x" + k + (acc ? " accumulate" : "") + ": c[" + i + "]");
                }
            }
        }
    }
}
