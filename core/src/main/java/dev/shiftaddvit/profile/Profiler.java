package dev.shiftaddvit.profile;

import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Opt-in per-layer record of forward and backward calls (kind "X/bwd"): name, kind, shape, multiply-accumulates,
 * time, and for forwards the operations counted by {@link OpCount}'s conventions (backward entries carry
 * {@link OpCount#ZERO}). A {@code MoeLinear} adds one entry of kind {@value #MOE} carrying its {@link Routing}
 * (its router and experts record themselves, so that entry has no operations and no time). Off by default (one
 * volatile read per layer call); `info`, `cost` and `bench --profile` turn it on.
 */
public final class Profiler {
    /** Kind of the routing entry of a {@code MoeLinear}. */
    public static final String MOE = "MoE";

    /** Tokens a MoE layer sent to its Mult and Shift experts in one forward. */
    public record Routing(long multTokens, long shiftTokens) {
    }

    /** One layer call; routing is null except for {@value #MOE} entries. */
    public record Entry(String name, String kind, String shape, long macs, long nanos, OpCount ops, Routing routing) {
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

    /** The entries recorded while {@code work} runs (the profiler is stopped however it ends). */
    public static List<Entry> during(Runnable work) {
        start();
        List<Entry> out;
        try {
            work.run();
        } finally {
            out = stop();
        }
        return out;
    }

    /** A call without operation counts (backward passes). */
    public static void record(String name, String kind, Tensor output, long macs, long startNanos) {
        record(name, kind, output, macs, OpCount.ZERO, startNanos);
    }

    public static void record(String name, String kind, String shape, long macs, long startNanos) {
        record(name, kind, shape, macs, OpCount.ZERO, startNanos);
    }

    public static void record(String name, String kind, Tensor output, long macs, OpCount ops, long startNanos) {
        if (sink != null) record(name, kind, Arrays.toString(output.shape()), macs, ops, startNanos);
    }

    public static void record(String name, String kind, String shape, long macs, OpCount ops, long startNanos) {
        add(new Entry(name, kind, shape, macs, System.nanoTime() - startNanos, ops, null));
    }

    public static void recordRouting(String name, String shape, int multTokens, int shiftTokens) {
        add(new Entry(name, MOE, shape, 0, 0, OpCount.ZERO, new Routing(multTokens, shiftTokens)));
    }

    private static void add(Entry e) {
        List<Entry> s = sink;
        if (s != null) s.add(e);
    }
}
