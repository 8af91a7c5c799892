package dev.shiftaddvit.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import dev.shiftaddvit.kernel.Gemm;
import dev.shiftaddvit.kernel.Machine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH benchmarks of {@link Gemm} over the engine's typical shapes. Shapes are "form:m:n:k".
 * Run: {@code java --add-modules jdk.incubator.vector -cp bench/target/classes:$(cat bench/target/classpath.txt)
 * org.openjdk.jmh.Main GemmBench}. GFLOP/s = 2*m*n*k / (time per op).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class GemmBench {
    static {
        System.out.println("# GemmBench on " + Machine.describe());
    }

    @Param({"nt:1024:1024:1024", "nn:1024:1024:1024", "tn:1024:1024:1024",
            "nt:197:576:192", "nt:197:192:192", "nt:197:768:192", "nt:197:192:768",
            "nt:25088:128:32", "nt:25088:32:128", "nt:6272:192:64", "nt:6272:64:256",
            "tn:64:64:6272", "tn:256:256:6272",
            "nt:196:196:64", "nn:196:64:196"})
    public String shape;

    private String form;
    private int m;
    private int n;
    private int k;
    private float[] a;
    private float[] b;
    private float[] c;

    @Setup
    public void setup() {
        String[] p = shape.split(":");
        form = p[0];
        m = Integer.parseInt(p[1]);
        n = Integer.parseInt(p[2]);
        k = Integer.parseInt(p[3]);
        SplittableRandom rnd = new SplittableRandom(1);
        a = new float[m * k];
        b = new float[n * k];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
    }

    @Benchmark
    public float[] gemm() {
        switch (form) {
            case "nt" -> Gemm.nt(m, n, k, a, 0, k, b, 0, k, c, 0, n, false);
            case "nn" -> Gemm.nn(m, n, k, a, 0, k, b, 0, n, c, 0, n, false);
            default -> Gemm.tn(m, n, k, a, 0, m, b, 0, n, c, 0, n, false);
        }
        return c;
    }
}
