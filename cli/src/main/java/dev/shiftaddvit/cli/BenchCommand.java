package dev.shiftaddvit.cli;

import dev.shiftaddvit.eval.Speed;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.kernel.Machine;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.model.ForwardFootprint;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.train.TrainingSpeed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Inference throughput at a batch size (default 32) and batch-1 latency; --profile adds a per-layer profile.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--model", description = "Model file or config name (default: the embedded dense model).")
    String model;

    @Option(names = "--batch-size", defaultValue = "32") int batch;

    @Option(names = "--seconds", defaultValue = "5", description = "Timed seconds per measurement.")
    double seconds;

    @Option(names = "--profile", description = "Show time per layer kind and the slowest layers.")
    boolean profile;

    @Option(names = "--train", description = "Also measure training steps (forward, backward, AdamW) at --train-batch-size.")
    boolean train;

    @Option(names = "--train-batch-size", defaultValue = "128") int trainBatch;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        common.apply();
        if (batch < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batch);
        if (!(seconds > 0)) throw new IllegalArgumentException("--seconds must be positive, got " + seconds);
        if (train && trainBatch < 1) {
            throw new IllegalArgumentException("--train-batch-size must be at least 1, got " + trainBatch);
        }
        Model m = ModelRef.resolve(model);
        ForwardFootprint.require(m.config(), batch, "--batch-size " + batch);
        if (train) ForwardFootprint.require(m.config(), trainBatch, "--train-batch-size " + trainBatch);
        Speed.Result r = Speed.measure(m, batch, seconds);
        List<Profiler.Entry> prof = profile ? Speed.profile(m, batch) : List.of();
        List<Profiler.Entry> trainProf = new ArrayList<>();
        double trainIps = train ? TrainingSpeed.imagesPerSecond(m, trainBatch, seconds, profile, trainProf) : 0;
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("config", m.config().name());
            o.put("threads", Parallel.threads());
            o.put("vector_bits", VectorWidth.BITS);
            o.put("machine", Machine.describe());
            o.put("batch", batch);
            o.put("images_per_s", EvalCommand.round(r.imagesPerSecond(), 1));
            o.put("latency_ms_median", EvalCommand.round(r.latencyMedianMs(), 3));
            o.put("latency_ms_p90", EvalCommand.round(r.latencyP90Ms(), 3));
            o.put("latency_runs", r.latencyRuns());
            if (train) {
                o.put("train_batch", trainBatch);
                o.put("train_images_per_s", EvalCommand.round(trainIps, 1));
            }
            if (profile) {
                List<Object> rows = new ArrayList<>();
                Speed.byKind(prof).forEach((k, v) -> {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("kind", k);
                    row.put("ms", EvalCommand.round(v[0] / 1e6, 3));
                    row.put("macs", v[1]);
                    rows.add(row);
                });
                o.put("profile", rows);
            }
            System.out.println(Json.write(o));
            return 0;
        }
        System.out.printf("machine: %s%n", Machine.describe());
        System.out.printf("%s, %d threads: %.1f images/s at batch %d; batch-1 latency %.2f ms median, %.2f ms p90 (%d runs)%n",
                m.config().name(), Parallel.threads(), r.imagesPerSecond(), batch, r.latencyMedianMs(),
                r.latencyP90Ms(), r.latencyRuns());
        if (train) System.out.printf("training: %.1f images/s at batch %d (forward, backward, AdamW)%n", trainIps, trainBatch);
        if (profile) printProfile(prof, "one forward at batch " + batch);
        if (profile && train) printProfile(trainProf, "one training step at batch " + trainBatch);
        return 0;
    }

    static void printProfile(List<Profiler.Entry> prof, String what) {
        long total = prof.stream().mapToLong(Profiler.Entry::nanos).sum();
        System.out.printf("%nper-kind time, %s:%n", what);
        Speed.byKind(prof).forEach((k, v) -> System.out.printf("  %-10s %8.2f ms %5.1f%%  %6.1f GFLOP/s%n", k, v[0] / 1e6,
                100.0 * v[0] / total, v[0] == 0 ? 0 : 2.0 * v[1] / v[0]));
        System.out.println("slowest layers:");
        prof.stream().sorted((a, b) -> Long.compare(b.nanos(), a.nanos())).limit(10).forEach(e ->
                System.out.printf("  %-36s %-10s %8.2f ms%n", e.name(), e.kind(), e.nanos() / 1e6));
    }
}
