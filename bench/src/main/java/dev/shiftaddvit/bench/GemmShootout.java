package dev.shiftaddvit.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Machine;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.kernel.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One-run GEMM comparison on a fixed thread count: our {@link Gemm} against OpenBLAS sgemm
 * (JavaCPP presets) and libtorch matmul (DJL, offline), plus the machine's fp32 FMA peak measured
 * by a Java loop. Prints a Markdown table; with {@code --write-benchmarks=FILE} it also replaces
 * the block between the gemm-shootout markers in that file (written to a temporary file, then
 * renamed).
 *
 * <p>Options: {@code --threads=N} (default 2), {@code --quick} (fewer repetitions),
 * {@code --no-torch}, {@code --no-openblas}, {@code --only=SUBSTRING} (shape filter),
 * {@code --block=NAME} (marker name of the block to rewrite, default gemm-shootout).
 */
public final class GemmShootout {
    static final String DEFAULT_BLOCK = "gemm-shootout";
    /** Pause before measuring an implementation, longer than OpenBLAS's thread spin timeout. */
    static final long PAUSE_MS = 250;

    enum Form { NT, NN, TN }

    record Shape(String name, Form form, int m, int n, int k) {
        double flop() {
            return 2.0 * m * n * k;
        }
    }

    /** One implementation under test, set up for one shape. */
    interface Runner extends AutoCloseable {
        void run();

        /** C as computed by the last run, row-major [m, n]. */
        float[] result();

        @Override
        default void close() {
        }
    }

    interface Impl {
        String name();

        Runner prepare(Shape s, float[] a, float[] b);
    }

    private GemmShootout() {
    }

    static List<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        s.add(new Shape("square 1024³", Form.NT, 1024, 1024, 1024));
        s.add(new Shape("square 1024³", Form.NN, 1024, 1024, 1024));
        s.add(new Shape("square 1024³", Form.TN, 1024, 1024, 1024));
        for (int batch : new int[] {1, 8}) {
            int m = 197 * batch;
            String b = "DeiT-Ti b" + batch + " ";
            s.add(new Shape(b + "qkv 192→576", Form.NT, m, 576, 192));
            s.add(new Shape(b + "proj 192→192", Form.NT, m, 192, 192));
            s.add(new Shape(b + "fc1 192→768", Form.NT, m, 768, 192));
            s.add(new Shape(b + "fc2 768→192", Form.NT, m, 192, 768));
        }
        s.add(new Shape("small 128·196 k32 n128", Form.NT, 128 * 196, 128, 32));
        s.add(new Shape("small 128·196 k128 n32", Form.NT, 128 * 196, 32, 128));
        s.add(new Shape("small 128·49 k64 n192", Form.NT, 128 * 49, 192, 64));
        s.add(new Shape("small 128·49 k64 n256", Form.NT, 128 * 49, 256, 64));
        s.add(new Shape("small 128·49 k256 n64", Form.NT, 128 * 49, 64, 256));
        for (int d : new int[] {64, 128, 192, 256}) {
            s.add(new Shape("weight grad " + d + "×" + d + " k6272", Form.TN, d, d, 6272));
        }
        return s;
    }

    public static void main(String[] args) throws Exception {
        int threads = 2;
        boolean quick = false;
        boolean torch = true;
        boolean blas = true;
        String only = null;
        Path write = null;
        String block = DEFAULT_BLOCK;
        for (String arg : args) {
            if (arg.startsWith("--threads=")) threads = Integer.parseInt(arg.substring(10));
            else if (arg.equals("--quick")) quick = true;
            else if (arg.equals("--no-torch")) torch = false;
            else if (arg.equals("--no-openblas")) blas = false;
            else if (arg.startsWith("--only=")) only = arg.substring(7);
            else if (arg.startsWith("--write-benchmarks=")) write = Path.of(arg.substring(19));
            else if (arg.startsWith("--block=")) block = arg.substring(8);
            else throw new IllegalArgumentException("unknown option " + arg);
        }
        Parallel.setThreads(threads);
        String loadBefore = uptime();
        System.out.println("load before: " + loadBefore);

        List<Impl> impls = new ArrayList<>();
        impls.add(new OursImpl());
        String blasNote = "not run";
        if (blas) {
            try {
                impls.add(new OpenBlasImpl(threads));
                blasNote = OpenBlasImpl.describe();
            } catch (Throwable t) {
                blasNote = "unavailable: " + t;
                System.out.println("OpenBLAS " + blasNote);
            }
        }
        String torchNote = "not run";
        if (torch) {
            try {
                impls.add(new TorchImpl(threads));
                torchNote = TorchImpl.describe();
            } catch (Throwable t) {
                torchNote = "unavailable: " + t;
                System.out.println("libtorch " + torchNote);
            }
        }

        double peak1 = FmaPeak.measure(1, quick ? 150 : 400);
        double peak = FmaPeak.measure(threads, quick ? 150 : 400);
        System.out.printf(Locale.ROOT, "FMA peak (Java loop): %.1f GFLOP/s on 1 thread, %.1f on %d threads%n",
                peak1, peak, threads);

        warmUpOurs(quick ? 0.5 : 1.5);
        int samples = quick ? 5 : 9;
        double sampleSec = quick ? 0.03 : 0.06;
        List<Shape> shapes = shapes();
        List<double[]> results = new ArrayList<>();
        List<Shape> done = new ArrayList<>();
        for (Shape s : shapes) {
            if (only != null && !s.name().contains(only) && !s.form().name().equalsIgnoreCase(only)) continue;
            SplittableRandom rnd = new SplittableRandom(s.m() * 31L + s.n() * 7L + s.k());
            float[] a = random(rnd, s.m() * s.k());
            float[] b = random(rnd, s.n() * s.k());
            double[] gflops = new double[impls.size()];
            Runner[] runners = new Runner[impls.size()];
            for (int i = 0; i < impls.size(); i++) runners[i] = impls.get(i).prepare(s, a, b);
            // Warm up every implementation and check that they agree.
            for (Runner r : runners) time(r, 0.15, 1);
            float[] ref = runners[0].result();
            double scale = Math.sqrt(s.k());
            for (int i = 1; i < runners.length; i++) {
                float[] other = runners[i].result();
                double maxDiff = 0;
                for (int j = 0; j < ref.length; j++) maxDiff = Math.max(maxDiff, Math.abs(ref[j] - other[j]));
                if (maxDiff > 1e-4 * scale * scale) {
                    System.out.printf(Locale.ROOT, "WARNING %s %s: %s differs from ours by %.3g%n",
                            s.name(), s.form(), impls.get(i).name(), maxDiff);
                }
            }
            double[][] t = new double[runners.length][samples];
            if (threads == 1) {
                // No worker threads anywhere: interleave the samples, which cancels load drift.
                for (int rep = 0; rep < samples; rep++) {
                    for (int i = 0; i < runners.length; i++) t[i][rep] = time(runners[i], sampleSec, 1);
                }
            } else {
                // One implementation at a time, after a pause: OpenBLAS and libtorch (OpenMP) worker
                // threads spin for a while after each call, which would steal the cores from
                // whichever implementation ran next if the samples were interleaved.
                for (int i = 0; i < runners.length; i++) {
                    Thread.sleep(PAUSE_MS);
                    time(runners[i], 0.1, 1);
                    for (int rep = 0; rep < samples; rep++) t[i][rep] = time(runners[i], sampleSec, 1);
                }
            }
            for (int i = 0; i < runners.length; i++) {
                Arrays.sort(t[i]);
                gflops[i] = s.flop() / t[i][samples / 2] / 1e9;
                runners[i].close();
            }
            results.add(gflops);
            done.add(s);
            System.out.println(row(s, impls, gflops));
        }
        String loadAfter = uptime();
        System.out.println("load after: " + loadAfter);

        String table = table(done, impls, results);
        StringBuilder md = new StringBuilder();
        md.append("Measured ").append(java.time.LocalDate.now()).append(" on ")
                .append(cpuModel()).append(", ").append(threads).append(" threads, JDK ")
                .append(Runtime.version()).append(", ").append(species()).append(".\n");
        md.append("Load average before / after the run: `").append(loadBefore).append("` / `")
                .append(loadAfter).append("`.\n");
        md.append(String.format(Locale.ROOT,
                "FMA peak of this machine measured by a Java loop of independent vector fma chains: "
                        + "**%.1f GFLOP/s on %d threads** (%.1f on 1 thread).%n", peak, threads, peak1));
        md.append("OpenBLAS: ").append(blasNote).append(". libtorch: ").append(torchNote).append(".\n\n");
        md.append(table);
        System.out.println();
        System.out.println(md);
        if (write != null) writeSection(write, block, md.toString());
    }

    // ------------------------------------------------------------------ timing and formatting

    /** Lets the JIT compile every Gemm path (all forms, edges, both schedules) before measuring. */
    static void warmUpOurs(double seconds) {
        SplittableRandom rnd = new SplittableRandom(3);
        float[] a = random(rnd, 400 * 300);
        float[] b = random(rnd, 300 * 300);
        float[] c = new float[400 * 300];
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            Gemm.nt(397, 291, 300, a, 0, 300, b, 0, 300, c, 0, 300, false);
            Gemm.nn(397, 291, 300, a, 0, 300, b, 0, 300, c, 0, 300, true);
            Gemm.tn(291, 299, 297, a, 0, 300, b, 0, 300, c, 0, 300, false);
            Gemm.nt(1200, 32, 96, a, 0, 96, b, 0, 96, c, 0, 32, false);
            Gemm.nt(61, 45, 64, a, 0, 64, b, 0, 64, c, 0, 45, false);
        }
    }

    /** Runs r repeatedly for about minSec seconds; returns seconds per call. */
    static double time(Runner r, double minSec, int minCalls) {
        long budget = (long) (minSec * 1e9);
        long t0 = System.nanoTime();
        long calls = 0;
        long elapsed;
        do {
            r.run();
            calls++;
            elapsed = System.nanoTime() - t0;
        } while (elapsed < budget || calls < minCalls);
        return elapsed / 1e9 / calls;
    }

    static float[] random(SplittableRandom rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }

    static String shapeCell(Shape s) {
        return String.format(Locale.ROOT, "%s (%s m=%d n=%d k=%d)", s.name(), s.form().name().toLowerCase(Locale.ROOT),
                s.m(), s.n(), s.k());
    }

    static String row(Shape s, List<Impl> impls, double[] g) {
        return table(List.of(s), impls, List.of(g)).lines().skip(2).findFirst().orElse("");
    }

    static int indexOf(List<Impl> impls, String name) {
        for (int i = 0; i < impls.size(); i++) if (impls.get(i).name().equals(name)) return i;
        return -1;
    }

    static String table(List<Shape> shapes, List<Impl> impls, List<double[]> results) {
        int blas = indexOf(impls, "OpenBLAS");
        int torch = indexOf(impls, "libtorch");
        StringBuilder sb = new StringBuilder();
        sb.append("| shape | ours GFLOP/s | OpenBLAS GFLOP/s | libtorch GFLOP/s | ours/OpenBLAS |\n");
        sb.append("|---|---:|---:|---:|---:|\n");
        for (int r = 0; r < shapes.size(); r++) {
            double[] g = results.get(r);
            sb.append("| ").append(shapeCell(shapes.get(r))).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f", g[0])).append(" | ")
                    .append(blas >= 0 ? String.format(Locale.ROOT, "%.1f", g[blas]) : "–").append(" | ")
                    .append(torch >= 0 ? String.format(Locale.ROOT, "%.1f", g[torch]) : "–").append(" | ")
                    .append(blas >= 0 ? String.format(Locale.ROOT, "%.0f%%", 100 * g[0] / g[blas]) : "–")
                    .append(" |\n");
        }
        return sb.toString();
    }

    static String uptime() {
        try {
            String s = Files.readString(Path.of("/proc/loadavg")).trim();
            String[] p = s.split("\\s+");
            return p[0] + " " + p[1] + " " + p[2];
        } catch (IOException e) {
            return String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    static String cpuModel() {
        return Machine.cpuModel() + " (" + Runtime.getRuntime().availableProcessors() + " cores visible)";
    }

    static String species() {
        return VectorWidth.describe();
    }

    /**
     * Replaces the block between {@code <!-- name:begin -->} and {@code <!-- name:end -->} in file
     * (or appends one under a GEMM heading) with text, atomically.
     */
    static void writeSection(Path file, String name, String text) throws IOException {
        String begin = "<!-- " + name + ":begin -->";
        String end = "<!-- " + name + ":end -->";
        String old = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        String block = begin + "\n" + text + end;
        String updated;
        int b = old.indexOf(begin);
        int e = old.indexOf(end);
        if (b >= 0 && e > b) {
            updated = old.substring(0, b) + block + old.substring(e + end.length());
        } else {
            updated = old + (old.isEmpty() || old.endsWith("\n") ? "" : "\n") + "\n## GEMM\n\n" + block + "\n";
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, updated, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("updated " + file);
    }

    // ------------------------------------------------------------------ implementations

    /** Our Gemm on Java heap arrays. */
    static final class OursImpl implements Impl {
        @Override
        public String name() {
            return "ours";
        }

        @Override
        public Runner prepare(Shape s, float[] a, float[] b) {
            float[] c = new float[s.m() * s.n()];
            int m = s.m(), n = s.n(), k = s.k();
            Runnable body = switch (s.form()) {
                // a is [m,k] (nt, nn) or [k,m] (tn); b is [n,k] (nt) or [k,n] (nn, tn)
                case NT -> () -> Gemm.nt(m, n, k, a, 0, k, b, 0, k, c, 0, n, false);
                case NN -> () -> Gemm.nn(m, n, k, a, 0, k, b, 0, n, c, 0, n, false);
                case TN -> () -> Gemm.tn(m, n, k, a, 0, m, b, 0, n, c, 0, n, false);
            };
            return new Runner() {
                @Override
                public void run() {
                    body.run();
                }

                @Override
                public float[] result() {
                    return c;
                }
            };
        }
    }

    /** Independent vector FMA chains on every thread: an upper bound for any fp32 GEMM here. */
    static final class FmaPeak {
        static final VectorSpecies<Float> F = VectorWidth.FLOAT;
        static volatile float sink;

        static float chains(long iters) {
            FloatVector m = FloatVector.broadcast(F, 0.9999999f);
            FloatVector d = FloatVector.broadcast(F, 1e-7f);
            FloatVector a0 = FloatVector.broadcast(F, 1f), a1 = a0.add(1f), a2 = a0.add(2f), a3 = a0.add(3f);
            FloatVector a4 = a0.add(4f), a5 = a0.add(5f), a6 = a0.add(6f), a7 = a0.add(7f);
            FloatVector a8 = a0.add(8f), a9 = a0.add(9f), a10 = a0.add(10f), a11 = a0.add(11f);
            for (long i = 0; i < iters; i++) {
                a0 = a0.fma(m, d);
                a1 = a1.fma(m, d);
                a2 = a2.fma(m, d);
                a3 = a3.fma(m, d);
                a4 = a4.fma(m, d);
                a5 = a5.fma(m, d);
                a6 = a6.fma(m, d);
                a7 = a7.fma(m, d);
                a8 = a8.fma(m, d);
                a9 = a9.fma(m, d);
                a10 = a10.fma(m, d);
                a11 = a11.fma(m, d);
            }
            return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                    .reduceLanes(VectorOperators.ADD);
        }

        /** GFLOP/s of threads threads each running for about millis ms; best of three. */
        static double measure(int threads, int millis) throws InterruptedException {
            for (int w = 0; w < 5; w++) sink += chains(200_000);
            long t0 = System.nanoTime();
            chains(10_000_000);
            double perIter = (System.nanoTime() - t0) / 1e7;
            long iters = (long) (millis * 1e6 / perIter);
            double best = 0;
            for (int rep = 0; rep < 3; rep++) {
                Thread[] ts = new Thread[threads];
                long start = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    ts[t] = new Thread(() -> sink += chains(iters));
                    ts[t].start();
                }
                for (Thread t : ts) t.join();
                double sec = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, threads * iters * 12.0 * 2 * F.length() / sec / 1e9);
            }
            return best;
        }
    }
}
