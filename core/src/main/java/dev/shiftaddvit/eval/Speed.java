package dev.shiftaddvit.eval;

import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.Tensor;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Inference timing of a model on random images: throughput at a batch size, batch-1 latency
 * percentiles, and a per-layer profile of one forward.
 */
public final class Speed {
    /** Throughput at {@code batch} and the batch-1 latency median and 90th percentile over {@code latencyRuns} passes. */
    public record Result(int batch, double imagesPerSecond, double latencyMedianMs, double latencyP90Ms, int latencyRuns) {
    }

    private Speed() {
    }

    /** Images [batch, size, size, channels] with pixels uniform in [-1, 1) from the seed. */
    public static Tensor randomImages(ModelConfig c, int batch, long seed) {
        Tensor x = Tensor.zeros(batch, c.imgSize(), c.imgSize(), c.inChans());
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < x.size(); i++) x.data()[i] = (float) (r.nextDouble() * 2 - 1);
        return x;
    }

    /** Runs warm-up then timed passes for about `seconds` each for throughput and latency. */
    public static Result measure(Model m, int batch, double seconds) {
        ModelConfig c = m.config();
        Tensor xb = randomImages(c, batch, 1);
        Tensor x1 = randomImages(c, 1, 2);
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        while (System.nanoTime() < warmEnd) {
            m.forward(xb, false);
            m.forward(x1, false);
        }
        int iters = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        do {
            m.forward(xb, false);
            iters++;
        } while (System.nanoTime() < end);
        double ips = (double) iters * batch / ((System.nanoTime() - t0) / 1e9);
        double[] lat = new double[4096];
        int n = 0;
        end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            long s = System.nanoTime();
            m.forward(x1, false);
            lat[n++] = (System.nanoTime() - s) / 1e6;
        } while (System.nanoTime() < end && n < lat.length);
        double[] sorted = Arrays.copyOf(lat, n);
        Arrays.sort(sorted);
        return new Result(batch, ips, sorted[n / 2], sorted[Math.min(n - 1, (int) (n * 0.9))], n);
    }

    /** Time per layer kind and per layer for one forward at the batch size, after a warm-up pass. */
    public static List<Profiler.Entry> profile(Model m, int batch) {
        Tensor x = randomImages(m.config(), batch, 3);
        m.forward(x, false);
        return Profiler.during(() -> m.forward(x, false));
    }

    /** Nanoseconds and multiply-accumulates summed per layer kind, in order of first appearance. */
    public static Map<String, long[]> byKind(List<Profiler.Entry> entries) {
        Map<String, long[]> k = new LinkedHashMap<>();
        for (Profiler.Entry e : entries) {
            long[] v = k.computeIfAbsent(e.kind(), x -> new long[2]);
            v[0] += e.nanos();
            v[1] += e.macs();
        }
        return k;
    }
}
