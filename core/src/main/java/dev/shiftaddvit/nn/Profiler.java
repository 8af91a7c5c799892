package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Opt-in per-layer record of forward and backward calls (kind "X/bwd"): name, kind, shape, multiply-accumulates and
 * time. Off by default (one volatile read per layer call); `info` and `bench --profile` turn it on.
 */
public final class Profiler {
    public record Entry(String name, String kind, String shape, long macs, long nanos) {
    }

    private static volatile List<Entry> sink;

    private Profiler() {
    }

    public static boolean active() {
        return sink != null;
    }

    public static void start() {
        sink = Collections.synchronizedList(new ArrayList<>());
    }

    public static List<Entry> stop() {
        List<Entry> out = sink == null ? List.of() : new ArrayList<>(sink);
        sink = null;
        return out;
    }

    static void record(String name, String kind, Tensor output, long macs, long startNanos) {
        if (sink != null) record(name, kind, Arrays.toString(output.shape()), macs, startNanos);
    }

    static void record(String name, String kind, String shape, long macs, long startNanos) {
        List<Entry> s = sink;
        if (s != null) s.add(new Entry(name, kind, shape, macs, System.nanoTime() - startNanos));
    }
}
