package dev.shiftaddvit.bench;

import ai.onnxruntime.OrtEnvironment;
import dev.shiftaddvit.bench.ShiftAddVariants.Route;
import dev.shiftaddvit.bench.ShiftAddVariants.Variant;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.kernel.Machine;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.onnx.OnnxExporter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One harness for the engines at 224 px (or {@code --img-size=N}) on one machine, same weights, same images, same thread count:
 * batch-1 latency (median) and large-batch throughput (images per second at the median batch time) of
 * <ul>
 *   <li>each model's dense form in our engine, in ONNX Runtime Java (our exported ONNX graph) and in
 *       libtorch through DJL (a TorchScript file of the same weights, see below);</li>
 *   <li>for models with global attention (DeiT, {@code pvt_v2_b0_msa}), our ShiftAddViT variants:
 *       add-attention, and add-attention + MoE deployed (Shift experts on the selected deploy kernel),
 *       with the MoE routing split measured on the benchmark input.</li>
 * </ul>
 * Engines are timed in separate blocks in rotating rounds ({@link Rounds}); logits of ONNX Runtime and
 * libtorch are compared with ours before timing.
 *
 * <p>libtorch needs {@code DIR/<model>.pt}. {@code --torchscript-dir=DIR} writes the weights of every
 * model whose .pt is missing as {@code DIR/<model>.safetensors} (with {@code --weights-only}, of every
 * model, and stops); {@code scripts/make_torchscript.py DIR} turns them into TorchScript with timm.
 * Without the .pt files the libtorch rows are skipped. From the repository root:
 * <pre>
 * mvn -q -o -pl bench -am package -DskipTests
 * J="java --add-modules jdk.incubator.vector -Xmx4g -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED
 *    -Dai.djl.offline=true -cp bench/target/classes:$(cat bench/target/classpath.txt)"
 * $J dev.shiftaddvit.bench.EngineShootout --torchscript-dir=runs/torchscript --weights-only   # 1. weights
 * python3 scripts/make_torchscript.py runs/torchscript                                         # 2. TorchScript (torch + timm)
 * $J dev.shiftaddvit.bench.EngineShootout --torchscript-dir=runs/torchscript                  # the run
 * </pre>
 * The full-attention PVT at batch 32 holds 3136×3136 attention matrices: the process peaks at about
 * 7 GB resident (mostly ONNX Runtime's native memory).
 *
 * <p>Options: {@code --models=deit_tiny,pvt_v2_b0_msa,pvt_v2_b0}, {@code --variants=full,add,moe},
 * {@code --threads=2}, {@code --samples=41} (batch-1 calls per engine over all rounds; the large batch
 * gets a quarter as many), {@code --batch=32}, {@code --rounds=3}, {@code --torchscript-dir=DIR},
 * {@code --weights-only}, {@code --calibration-images=8} (random images the KSH hashes train on),
 * {@code --keep-last-softmax} (upstream's choice; default: add-attention in every block),
 * {@code --alpha-from=energy|latency} (MoE balance weights; they only shape fine-tuning, the split of
 * an untrained router does not depend on them), {@code --img-size=N} (PVTv2 configs at another input size: the growth with the token count),
 * {@code --moe-route=router|shift|mult|shiftonly} (force every
 * token to one expert, or deploy every layer shift-only; the table says so), or several separated by commas for one MoE row each.
 */
public final class EngineShootout {
    /** Above this max |Δ logit| between engines a warning is printed. */
    private static final double DIFF_WARNING = 1e-3;

    enum EngineKind {
        OURS, ORT, TORCH
    }

    /** One table row: an engine running one variant of one model (route: how a MoE variant routes, else null). */
    private record Entry(String model, Variant variant, Route route, EngineKind engine, ModelRunner runner, Model ours) {
    }

    /** Max |Δ logit| against our dense model (NaN: not compared) and the MoE routing split (null: no MoE). */
    private record Check(double maxDiff, String routing) {
    }

    /** What the table shows of an entry. */
    private record Result(Entry entry, double b1Ms, double imagesPerSecond, Check check) {
    }

    private EngineShootout() {
    }

    public static void main(String[] args) throws Exception {
        ShootoutOptions o;
        try {
            o = ShootoutOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("EngineShootout: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.print(run(o, System.err));
    }

    /** Runs the shootout; returns the report (empty with --weights-only), logs progress to log. */
    static String run(ShootoutOptions o, PrintStream log) throws Exception {
        Parallel.setThreads(o.threads());
        if (o.torchscriptDir() != null) writeWeights(o, log);
        if (o.weightsOnly()) return "";
        String loadBefore = GemmShootout.uptime();
        log.println("machine: " + Machine.describe());
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<Entry> entries = new ArrayList<>();
        try {
            for (String name : o.models()) addEntries(o, env, name, entries, log);
            List<Check> checks = check(entries, log);
            List<ModelRunner> runners = entries.stream().map(Entry::runner).toList();
            double[][][] t = Rounds.measure(runners, o.plan(), log::println);
            List<Result> results = new ArrayList<>();
            for (int i = 0; i < entries.size(); i++) {
                results.add(new Result(entries.get(i), Rounds.median(t[i][0]) * 1e3,
                        o.batch() / Rounds.median(t[i][1]), checks.get(i)));
            }
            boolean torch = entries.stream().anyMatch(e -> e.engine() == EngineKind.TORCH);
            return header(o, env, torch, loadBefore, GemmShootout.uptime()) + table(results, o);
        } finally {
            for (Entry e : entries) e.runner().close();
        }
    }

    private static void writeWeights(ShootoutOptions o, PrintStream log) throws IOException {
        Path dir = o.torchscriptDir();
        for (String name : o.models()) {
            Path pt = dir.resolve(name + ".pt");
            if (!o.weightsOnly() && Files.exists(pt)) continue;
            Files.createDirectories(dir);
            Path weights = dir.resolve(name + ".safetensors");
            Checkpoints.save(weights, ShiftAddVariants.dense(name, o.imgSize()), null, Map.of());
            log.println("wrote " + weights);
            if (!o.weightsOnly()) {
                log.println("libtorch rows of " + name + " skipped: " + pt + " is missing; make it with "
                        + "'python3 scripts/make_torchscript.py " + dir + "' and run again");
            }
        }
    }

    private static void addEntries(ShootoutOptions o, OrtEnvironment env, String name, List<Entry> entries,
                                   PrintStream log) throws Exception {
        ModelConfig cfg = ShiftAddVariants.config(name, o.imgSize());
        List<BenchImages> inputs = List.of(BenchImages.random(cfg, 1, 1), BenchImages.random(cfg, o.batch(), 2));
        if (o.variants().contains(Variant.FULL)) {
            Model dense = ShiftAddVariants.dense(name, o.imgSize());
            entries.add(new Entry(name, Variant.FULL, null, EngineKind.OURS, new OursRunner(dense, inputs), dense));
            byte[] onnx = OnnxExporter.export(dense).toByteArray();
            entries.add(new Entry(name, Variant.FULL, null, EngineKind.ORT, new OrtRunner(env, onnx, o.threads(), inputs),
                    null));
            Path pt = o.torchscriptDir() == null ? null : o.torchscriptDir().resolve(name + ".pt");
            if (pt != null && Files.exists(pt)) {
                entries.add(new Entry(name, Variant.FULL, null, EngineKind.TORCH,
                        new TorchScriptRunner(pt, o.threads(), inputs), null));
            }
        }
        List<Variant> shiftAdd = Stream.of(Variant.ADD, Variant.MOE).filter(o.variants()::contains).toList();
        if (!shiftAdd.isEmpty() && !ShiftAddVariants.fullAttention(name)) {
            log.println(name + ": dense only; ShiftAddViT starts from global attention (its _msa config)");
            return;
        }
        for (Variant v : shiftAdd) {
            for (Route route : v == Variant.MOE ? o.routes() : Collections.singletonList((Route) null)) {
                long t0 = System.nanoTime();
                BenchImages calibration = BenchImages.random(cfg, o.calibrationImages(), 3);
                Model m = ShiftAddVariants.build(name, o.imgSize(), v, o.conversion(), route, calibration);
                log.printf(Locale.ROOT, "%s: built %s (%.1f s)%n", name, ShiftAddVariants.label(name, v, o.conversion()),
                        (System.nanoTime() - t0) / 1e9);
                entries.add(new Entry(name, v, route, EngineKind.OURS, new OursRunner(m, inputs), m));
            }
        }
    }

    /**
     * Runs every entry once on each input (which also warms it up): max |Δ logit| of ONNX Runtime and
     * libtorch against our dense model, and the routing split of the MoE models on the large batch.
     */
    private static List<Check> check(List<Entry> entries, PrintStream log) throws Exception {
        Map<String, float[][]> reference = new HashMap<>();
        List<Check> checks = new ArrayList<>();
        for (Entry e : entries) {
            float[][] out = {e.runner().run(0), e.runner().run(1)};
            double diff = Double.NaN;
            if (e.engine() == EngineKind.OURS && e.variant() == Variant.FULL) {
                reference.put(e.model(), out);
            } else if (e.engine() != EngineKind.OURS) {
                float[][] ref = reference.get(e.model());
                diff = 0;
                for (int i = 0; i < out.length; i++) {
                    if (out[i].length != ref[i].length) {
                        throw new IllegalStateException(e.model() + ": " + e.engine() + " returned " + out[i].length
                                + " logits, ours " + ref[i].length);
                    }
                    for (int j = 0; j < out[i].length; j++) diff = Math.max(diff, Math.abs(out[i][j] - ref[i][j]));
                }
                if (!(diff <= DIFF_WARNING)) {
                    log.printf(Locale.ROOT, "WARNING %s: %s logits differ from ours by %.3g (stale TorchScript file?)%n",
                            e.model(), e.engine(), diff);
                }
            }
            checks.add(new Check(diff, e.variant() == Variant.MOE ? ShiftAddVariants.routing(e.ours(), e.route()) : null));
        }
        return checks;
    }

    private static String header(ShootoutOptions o, OrtEnvironment env, boolean torch, String loadBefore,
                                 String loadAfter) {
        Rounds.Plan p = o.plan();
        String size = o.imgSize() > 0 ? o.imgSize() + " px inputs" : "each config's input size";
        return String.format(Locale.ROOT, "%s, %s, JDK %s, %d threads, %s; ONNX Runtime %s; %s%n"
                        + "%d rounds, %d batch-1 and %d batch-%d samples per engine; load average before / after: %s / %s%n"
                        + "ShiftAddViT: KSH hashes trained on %d random images, MoE α from %s, routers untrained%n%n",
                GemmShootout.cpuModel(), GemmShootout.species(), Runtime.version(), o.threads(), size, env.getVersion(),
                torch ? TorchScriptRunner.describe() : "libtorch not run", p.rounds(),
                p.perRound(0) * p.rounds(), p.perRound(1) * p.rounds(), o.batch(), loadBefore, loadAfter,
                o.calibrationImages(), o.conversion().alphaFrom().name().toLowerCase(Locale.ROOT));
    }

    private static String table(List<Result> results, ShootoutOptions o) {
        int b = o.batch();
        StringBuilder sb = new StringBuilder();
        sb.append("| model | variant | engine | batch 1 median ms | batch ").append(b).append(" img/s | speed vs ORT "
                + "same model (b1 / b").append(b).append(") | speed vs ORT full-attention baseline (b1 / b").append(b)
                .append(") | max abs Δ logit | routing |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---|\n");
        for (Result r : results) {
            Entry e = r.entry();
            String baseline = ShiftAddVariants.fullAttention(e.model()) ? e.model() : e.model() + "_msa";
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %.1f | %s | %s | %s | %s |%n", e.model(),
                    ShiftAddVariants.label(e.model(), e.variant(), o.conversion()), engineName(e.engine()), r.b1Ms(),
                    r.imagesPerSecond(), speed(r, ortOf(results, e.model())), speed(r, ortOf(results, baseline)),
                    Double.isNaN(r.check().maxDiff()) ? "" : String.format(Locale.ROOT, "%.1e", r.check().maxDiff()),
                    r.check().routing() == null ? "" : r.check().routing()));
        }
        return sb.toString();
    }

    private static String engineName(EngineKind k) {
        return switch (k) {
            case OURS -> "shiftaddvit-java";
            case ORT -> "ONNX Runtime";
            case TORCH -> "libtorch (DJL)";
        };
    }

    private static Result ortOf(List<Result> results, String model) {
        for (Result r : results) {
            if (r.entry().model().equals(model) && r.entry().engine() == EngineKind.ORT) return r;
        }
        return null;
    }

    /** "a× / b×": how many times faster than the reference at batch 1 and at the large batch. */
    private static String speed(Result r, Result ref) {
        if (ref == null) return "–";
        return String.format(Locale.ROOT, "%.2f× / %.2f×", ref.b1Ms() / r.b1Ms(), r.imagesPerSecond()
                / ref.imagesPerSecond());
    }
}
