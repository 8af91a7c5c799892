package dev.shiftaddvit.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import dev.shiftaddvit.kernel.BitCodes;
import dev.shiftaddvit.kernel.FixedPoint;
import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Machine;
import dev.shiftaddvit.kernel.MatAdd;
import dev.shiftaddvit.kernel.MatShift;
import dev.shiftaddvit.kernel.MatShiftExponent;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.shiftadd.ShiftCodes;
import dev.shiftaddvit.shiftadd.ShiftKernel;

/**
 * MatAdd and MatShift against our fp32 {@link Gemm} computing the same products, on the upstream
 * unit-test shapes (spec §5.1/§5.2), with 1 and 2 threads. For each shape and thread count the
 * implementations are warmed up, then sampled interleaved (one sample of each in turn), and each
 * figure is the median. Prints a Markdown table; {@code --write-benchmarks=FILE} replaces the block
 * between the kernel-ratios markers in FILE.
 *
 * <p>Options: {@code --quick} (fewer, shorter samples), {@code --samples=N}, {@code --threads=1,2},
 * {@code --only=SUBSTRING} (kernel-name filter, e.g. MatShift).
 */
public final class KernelShootout {
    static final String BLOCK = "kernel-ratios";

    private KernelShootout() {
    }

    /** One timed row: named implementations of one shape, the first being the GEMM baseline. */
    record Case(String kernel, String shape, String[] names, Runnable[] bodies) {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        int samples = 9;
        int[] threadCounts = {1, 2};
        Path write = null;
        String only = "";
        for (String arg : args) {
            if (arg.equals("--quick")) quick = true;
            else if (arg.startsWith("--samples=")) samples = Integer.parseInt(arg.substring(10));
            else if (arg.startsWith("--threads=")) {
                threadCounts = Arrays.stream(arg.substring(10).split(",")).mapToInt(Integer::parseInt).toArray();
            } else if (arg.startsWith("--only=")) only = arg.substring(7);
            else if (arg.startsWith("--write-benchmarks=")) write = Path.of(arg.substring(19));
            else throw new IllegalArgumentException("unknown option " + arg);
        }
        if (quick) samples = Math.min(samples, 7);
        double sampleSec = quick ? 0.03 : 0.08;
        String loadBefore = GemmShootout.uptime();
        System.out.println("load before: " + loadBefore);
        System.out.println("machine: " + Machine.describe());

        List<Case> cases = new ArrayList<>();
        for (int[] s : new int[][] {{1, 3136, 32, 16}, {2, 784, 32, 16}, {5, 196, 32, 16}}) {
            cases.addAll(matAdd(s[0], s[1], s[2], s[3]));
        }
        for (int[] s : new int[][] {{3136, 64, 512}, {3136, 512, 64}, {784, 128, 1024}, {784, 1024, 128}}) {
            cases.add(matShift(s[0], s[1], s[2]));
            cases.add(floatShift("MatShiftExponent X·Wᵀ", "MatShiftExponent", ShiftKernel.EXPONENT, s[0], s[1], s[2]));
            cases.add(floatShift("Shift on GEMM X·Wᵀ", "ShiftKernel.GEMM", ShiftKernel.GEMM, s[0], s[1], s[2]));
        }
        String filter = only;
        cases.removeIf(c -> !c.kernel().contains(filter));

        StringBuilder table = new StringBuilder();
        table.append("| kernel | shape | threads | GEMM ms | kernel ms | GEMM / kernel | toFixed ms | "
                + "forward ms (float in/out) | GEMM / forward |\n");
        table.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int threads : threadCounts) {
            Parallel.setThreads(threads);
            for (Case c : cases) {
                double[] ms = measure(c.bodies(), samples, sampleSec);
                String row = row(c, threads, ms);
                System.out.print(row);
                table.append(row);
            }
        }
        String loadAfter = GemmShootout.uptime();
        System.out.println("load after: " + loadAfter);

        StringBuilder md = new StringBuilder();
        md.append("Measured ").append(java.time.LocalDate.now()).append(" on ").append(GemmShootout.cpuModel())
                .append(", JDK ").append(Runtime.version()).append(", ").append(GemmShootout.species())
                .append(String.format(Locale.ROOT, ", median of %d interleaved samples (≥ %.0f ms each).%n",
                        samples, sampleSec * 1e3));
        md.append("Load average before / after the run: `").append(loadBefore).append("` / `").append(loadAfter)
                .append("`.\n\n");
        md.append(table);
        System.out.println();
        System.out.println(md);
        if (write != null) GemmShootout.writeSection(write, BLOCK, md.toString());
    }

    /** Median seconds per call of each body: warm-up, then samples taken round-robin. */
    static double[] measure(Runnable[] bodies, int samples, double sampleSec) {
        GemmShootout.Runner[] runners = new GemmShootout.Runner[bodies.length];
        for (int i = 0; i < bodies.length; i++) {
            Runnable b = bodies[i];
            runners[i] = new GemmShootout.Runner() {
                @Override
                public void run() {
                    b.run();
                }

                @Override
                public float[] result() {
                    return null;
                }
            };
        }
        for (GemmShootout.Runner r : runners) GemmShootout.time(r, 0.3, 3);
        double[][] t = new double[bodies.length][samples];
        for (int rep = 0; rep < samples; rep++) {
            for (int i = 0; i < runners.length; i++) t[i][rep] = GemmShootout.time(runners[i], sampleSec, 1);
        }
        double[] med = new double[bodies.length];
        for (int i = 0; i < bodies.length; i++) {
            Arrays.sort(t[i]);
            med[i] = t[i][samples / 2] * 1e3;
        }
        return med;
    }

    static String row(Case c, int threads, double[] ms) {
        String f = "%.3f";
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(c.kernel()).append(" | ").append(c.shape()).append(" | ").append(threads).append(" | ")
                .append(String.format(Locale.ROOT, f, ms[0])).append(" | ")
                .append(String.format(Locale.ROOT, f, ms[1])).append(" | ")
                .append(String.format(Locale.ROOT, "**%.2f**", ms[0] / ms[1])).append(" | ");
        if (ms.length == 4) {
            sb.append(String.format(Locale.ROOT, f, ms[2])).append(" | ")
                    .append(String.format(Locale.ROOT, f, ms[3])).append(" | ")
                    .append(String.format(Locale.ROOT, "%.2f", ms[0] / ms[3])).append(" |\n");
        } else {
            sb.append("– | – | – |\n");
        }
        return sb.toString();
    }

    /**
     * The two attention products of one MatAdd shape (batch 1, H heads of N tokens, head dim d, r
     * code bits): Bᵀ·V per head ([r, d]) and B·T per head ([N, d] into the token-major [N, H·d]),
     * against Gemm tn / nn per head with B as a float 0/1 matrix. Codes are random bits (p = 1/2).
     */
    static List<Case> matAdd(int heads, int n, int d, int r) {
        SplittableRandom rnd = new SplittableRandom(heads * 31L + n);
        BitCodes codes = new BitCodes(heads, n, r);
        long[] words = codes.tokenWords();
        for (int i = 0; i < words.length; i++) words[i] = rnd.nextLong() & BitCodes.lowBits(r);
        float[] b = codes.toFloats();   // [H][N][r]
        int ld = heads * d;
        float[] v = GemmShootout.random(rnd, n * ld);
        float[] t = GemmShootout.random(rnd, heads * r * d);
        float[] tOut = new float[heads * r * d];
        float[] p = new float[n * ld];
        String shape = String.format(Locale.ROOT, "(H, N, d, r) = (%d, %d, %d, %d)", heads, n, d, r);
        Runnable gemmBtV = () -> {
            for (int h = 0; h < heads; h++) {
                Gemm.tn(r, d, n, b, h * n * r, r, v, h * d, ld, tOut, h * r * d, d, false);
            }
        };
        Runnable addBtV = () -> MatAdd.transposedTimesHeads(codes, heads, d, v, 0, ld, tOut, 0);
        Runnable gemmBT = () -> {
            for (int h = 0; h < heads; h++) {
                Gemm.nn(n, d, r, b, h * n * r, r, t, h * r * d, d, p, h * d, ld, false);
            }
        };
        Runnable addBT = () -> MatAdd.timesHeads(codes, heads, d, t, 0, p, 0, ld);
        return List.of(
                new Case("MatAdd Bᵀ·V", shape, new String[] {"Gemm.tn", "MatAdd"}, new Runnable[] {gemmBtV, addBtV}),
                new Case("MatAdd B·T", shape, new String[] {"Gemm.nn", "MatAdd"}, new Runnable[] {gemmBT, addBT}));
    }

    /**
     * One MatShift shape: X[M, K]·Wᵀ with W [N, K] = sign·2^shift ({@link ShiftWeights}), timed as
     * Gemm.nt on the decoded float W, the integer kernel on pre-converted Q16.16 activations, the
     * float→fixed conversion alone, and the float-in/float-out deployment forward.
     */
    static Case matShift(int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(m * 7L + k * 3L + n);
        ShiftWeights sw = ShiftWeights.of(rnd, n, k);
        float[] w = sw.dense();
        MatShift.Packed packed = MatShift.pack(n, k, sw.sign(), sw.shift(), null);
        float[] x = GemmShootout.random(rnd, m * k);
        for (int i = 0; i < x.length; i++) x[i] *= 3f;
        int[] xi = new int[m * k];
        FixedPoint.toFixed(x, 0, xi, 0, xi.length);
        float[] yg = new float[m * n];
        int[] yi = new int[m * n];
        float[] yf = new float[m * n];
        Runnable gemm = () -> Gemm.nt(m, n, k, x, 0, k, w, 0, k, yg, 0, n, false);
        Runnable shiftInt = () -> MatShift.matShift(m, packed, xi, 0, k, yi, 0, n);
        Runnable toFixed = () -> FixedPoint.toFixed(x, 0, xi, 0, xi.length);
        Runnable forward = () -> MatShift.forward(m, packed, x, 0, k, yf, 0, n);
        // Sanity: the deployment result agrees with the float product up to the per-term rounding error.
        gemm.run();
        forward.run();
        warnIfFar("MatShift", m, k, n, yg, yf, k * 0x1p-16 + 1e-4);
        String shape = String.format(Locale.ROOT, "(M, K, N) = (%d, %d, %d)", m, k, n);
        return new Case("MatShift X·Wᵀ", shape, new String[] {"Gemm.nt", "MatShift", "toFixed", "forward"},
                new Runnable[] {gemm, shiftInt, toFixed, forward});
    }

    /**
     * The same shape through a float-in/float-out deploy kernel bound to the layer's codes, against
     * Gemm.nt on the decoded W: {@link ShiftKernel#EXPONENT} ({@link MatShiftExponent}, one integer add on
     * the float exponent and one float add per weight) or {@link ShiftKernel#GEMM} (the default: Q(x), then
     * the weights ±2^-s on the packed fp32 GEMM).
     */
    static Case floatShift(String kernel, String name, ShiftKernel which, int m, int k, int n) {
        SplittableRandom rnd = new SplittableRandom(m * 7L + k * 3L + n);
        ShiftWeights sw = ShiftWeights.of(rnd, n, k);
        float[] w = sw.dense();
        ShiftKernel.Bound bound = which.bind(ShiftCodes.pack(sw.sign(), sw.shift()), n, k, null);
        float[] x = GemmShootout.random(rnd, m * k);
        for (int i = 0; i < x.length; i++) x[i] *= 3f;
        float[] yg = new float[m * n];
        float[] ys = new float[m * n];
        Runnable gemm = () -> Gemm.nt(m, n, k, x, 0, k, w, 0, k, yg, 0, n, false);
        Runnable forward = () -> bound.forward(m, x, 0, ys, 0);
        gemm.run();
        forward.run();
        // GEMM sees the unquantized x: they differ by at most the quantization step per term.
        warnIfFar(name, m, k, n, yg, ys, k * 0x1p-16 + 1e-4);
        String shape = String.format(Locale.ROOT, "(M, K, N) = (%d, %d, %d)", m, k, n);
        return new Case(kernel, shape, new String[] {"Gemm.nt", name}, new Runnable[] {gemm, forward});
    }

    private static void warnIfFar(String kernel, int m, int k, int n, float[] expected, float[] actual, double bound) {
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        if (maxDiff > bound) {
            System.out.printf(Locale.ROOT, "WARNING %s %d×%d×%d differs from Gemm by %.3g%n", kernel, m, k, n, maxDiff);
        }
    }

    /**
     * W [N, K] = sign·2^shift from a trunc-normal(0.02) dense weight (as {@code ShiftLinear.fromDense}:
     * shift = round(log2|w|) clamped to [−14, 0]), with its decoded float values.
     */
    private record ShiftWeights(byte[] sign, byte[] shift, float[] dense) {
        static ShiftWeights of(SplittableRandom rnd, int n, int k) {
            byte[] sign = new byte[n * k];
            byte[] shift = new byte[n * k];
            float[] w = new float[n * k];
            for (int i = 0; i < w.length; i++) {
                double g;
                do {
                    g = rnd.nextGaussian();
                } while (Math.abs(g) > 2);
                double wd = 0.02 * g;
                sign[i] = (byte) (wd > 0 ? 1 : wd < 0 ? -1 : 0);
                shift[i] = (byte) Math.max(-14, Math.min(0, Math.rint(Math.log(Math.abs(wd)) / Math.log(2))));
                w[i] = (float) (sign[i] * Math.scalb(1.0, shift[i]));
            }
            return new ShiftWeights(sign, shift, w);
        }
    }
}
