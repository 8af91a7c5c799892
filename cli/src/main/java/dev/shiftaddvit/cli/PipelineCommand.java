package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.cli.report.PipelineReport;
import dev.shiftaddvit.cli.report.PipelineSummary;
import dev.shiftaddvit.cli.report.StageResult;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.eval.StageMeasure;
import dev.shiftaddvit.eval.Agreement;
import dev.shiftaddvit.eval.Evaluator;
import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.kernel.Machine;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ShiftAddSpec;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = {"Dense -> attn -> moe -> deployed: reparameterise a trained model stage by stage, fine-tune "
                + "after each, freeze it into a deploy file (5-bit shift codes, MatShift/MatAdd kernels), then measure "
                + "every stage and write a report (Markdown and PNG plots).",
                "Data: Fashion-MNIST, or your own images with --images DIR (DIR/train/<class>/ for the KSH hashes and "
                        + "the fine-tunes, DIR/val/<class>/ for the measurements; the model needs one class per folder).",
                "Each stage's files go to --dir; a stage whose output exists is reused and an interrupted fine-tune "
                        + "resumes, so re-running the same command continues where it stopped.",
                "Both fine-tunes distil from the dense parent (soft targets, temperature 2, weight 0.5); "
                        + "--distill none trains on the labels alone."})
final class PipelineCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    ReparamOptions options;

    @Option(names = "--model", description = "The trained dense model (default: the embedded default model).")
    Path model;

    @Option(names = "--dir", defaultValue = "runs/pipeline", description = "Working directory for the stages and "
            + "the report (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--out", description = "Also copy the deploy file here.")
    Path out;

    @Option(names = "--attn-epochs", defaultValue = "6", description = "Fine-tune epochs after attn (default: ${DEFAULT-VALUE}).")
    int attnEpochs;

    @Option(names = "--attn-lr", defaultValue = "5e-4", description = "Peak fine-tune rate after attn (default: ${DEFAULT-VALUE}).")
    float attnLr;

    @Option(names = "--moe-epochs", defaultValue = "3", description = "Fine-tune epochs after moe (default: ${DEFAULT-VALUE}).")
    int moeEpochs;

    @Option(names = "--moe-lr", defaultValue = "2.5e-4", description = "Peak fine-tune rate after moe (default: ${DEFAULT-VALUE}).")
    float moeLr;

    @Option(names = "--batch-size", defaultValue = "128", description = "Fine-tune batch size (default: "
            + "${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of conversions and fine-tunes (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--speed-seconds", defaultValue = "3", description = "Timed seconds per speed measurement "
            + "(default: ${DEFAULT-VALUE}).")
    double speedSeconds;

    @Mixin
    DataLimits limits;

    @Mixin
    DistillOptions distill;

    @Override
    public Integer call() throws IOException {
        common.apply();
        distill.config();
        AtomicFiles.createDirectories(dir);
        AtomicFiles.requireWritable(dir.resolve("attn-init.safetensors"));
        if (out != null) AtomicFiles.requireWritable(out);
        Path parent = model != null ? model : DefaultModels.dense();
        Path teacher = distill.teacher != null ? distill.teacher : parent;
        Checkpoints.Loaded dense = Checkpoints.load(parent);
        TrainRun.Data data = limits.load(common, dense.model().config());
        String command = CommandLineCapture.commandLine();
        Map<String, String> inherited = Checkpoints.inherited(dense.metadata());

        Path attnInit = dir.resolve("attn-init.safetensors");
        Path attn = dir.resolve("attn.safetensors");
        Path moeInit = dir.resolve("moe-init.safetensors");
        Path moe = dir.resolve("moe.safetensors");

        stage("attn", attnInit, () -> {
            Model m = Checkpoints.load(parent).model();
            ReparamStage.attn(m, options.attn(), data.train(), options.hashImages, seed);
            save(attnInit, m, parent, command, inherited);
        });
        finetune("attn", attnInit, attn, attnEpochs, attnLr, data, command, teacher);
        stage("moe", moeInit, () -> {
            Model m = Checkpoints.load(attn).model();
            ReparamStage.moe(m, options.moe(), seed);
            save(moeInit, m, attn, command, inherited);
        });
        finetune("moe", moeInit, moe, moeEpochs, moeLr, data, command, teacher);
        Path deployed = dir.resolve("deployed.safetensors");
        stage("deploy", deployed, () -> {
            Checkpoints.Loaded fin = Checkpoints.load(moe);
            Map<String, String> meta = new LinkedHashMap<>(fin.metadata());
            meta.put(CheckpointKeys.PIPELINE_COMMAND, command);
            meta.put(CheckpointKeys.PIPELINE_REPORT, dir.resolve(PipelineReport.REPORT).toString());
            DeployFile.save(deployed, fin.model(), meta);
            System.err.printf("wrote %s (5-bit shift codes, %,d bytes)%n", deployed, Files.size(deployed));
        });
        // Each file is loaded once; the measured models also serve the agreement and α summary below.
        Checkpoints.Loaded moeModel = Checkpoints.load(moe);
        Checkpoints.Loaded deployedModel = Checkpoints.load(deployed);
        List<StageResult> stages = new ArrayList<>();
        stages.add(measure("dense", parent, dense, data));
        stages.add(measure("attn", attn, Checkpoints.load(attn), data));
        stages.add(measure("moe", moe, moeModel, data));
        stages.add(measure("deployed", deployed, deployedModel, data));
        Map<String, String> info = new LinkedHashMap<>();
        info.put("command", command);
        info.put("parent", parent.toString());
        info.put("machine", Machine.describe() + ", Java " + Runtime.version());
        info.put("date", java.time.LocalDate.now().toString());
        info.put("test images", Integer.toString(data.test().n()));
        info.put("attn top-1 right after conversion", top1(attnInit, data));
        info.put("moe top-1 right after conversion", top1(moeInit, data));
        info.putAll(alphaSummary(moeModel.model()));
        info.put("deployed vs float simulation", agreement(moeModel.model(), deployedModel.model(), data));
        PipelineReport.write(dir, new PipelineSummary(stages, info));
        System.err.printf("wrote %s%n", dir.resolve(PipelineReport.REPORT));
        if (out != null) {
            AtomicFiles.write(out, ch -> {
                try (FileChannel in = FileChannel.open(deployed)) {
                    for (long pos = 0, n = in.size(); pos < n; ) pos += in.transferTo(pos, n - pos, ch);
                }
            });
            System.err.printf("copied %s to %s%n", deployed, out);
        }
        return 0;
    }

    /**
     * Only the attn and moe stages fine-tune here: the dense parent's training and the training the deploy file
     * inherits from moe are not reported as theirs.
     */
    private StageResult measure(String stage, Path file, Checkpoints.Loaded l, TrainRun.Data data) {
        Map<String, String> meta = new LinkedHashMap<>(l.metadata());
        if (!stage.equals("attn") && !stage.equals("moe")) {
            for (String k : List.of(CheckpointKeys.TRAIN_EPOCHS, CheckpointKeys.TRAIN_MINUTES_THIS_RUN,
                    CheckpointKeys.TRAIN_HISTORY)) {
                meta.remove(k);
            }
        }
        return StageResults.measure(stage, file.toString(), l.model(), data.test(), speedSeconds, meta,
                StageMeasure.cost(l.model(), data.costImages()));
    }

    /** Top-1 agreement of the simulated and deployed forms over the test set, as the report states it. */
    private static String agreement(Model sim, Model deployed, TrainRun.Data data) {
        BatchSource src = new BatchSource(data.test(), sim.config().mean(), sim.config().std());
        Agreement a = Agreement.measure(sim, deployed, src, 256, null);
        return String.format("%d of %d images change top-1, max |Δlogit| %.2g", a.differing(), a.images(),
                a.maxAbsDiff());
    }

    private static String top1(Path file, TrainRun.Data data) {
        Model m = Checkpoints.load(file).model();
        BatchSource src = new BatchSource(data.test(), m.config().mean(), m.config().std());
        return String.format("%.2f %%", Evaluator.evaluate(m, src, 256, null).top1());
    }

    /** The latency weights as measured at conversion: the range of α_shift and of the Shift/Mult latency ratio. */
    private static Map<String, String> alphaSummary(Model m) {
        double aMin = Double.POSITIVE_INFINITY;
        double aMax = Double.NEGATIVE_INFINITY;
        double rMin = Double.POSITIVE_INFINITY;
        double rMax = Double.NEGATIVE_INFINITY;
        for (ShiftAddSpec.MoeLayer l : m.shiftAdd().moe().layers()) {
            double a = l.alpha()[MoeLinear.SHIFT];
            aMin = Math.min(aMin, a);
            aMax = Math.max(aMax, a);
            if (!l.timed()) continue;
            double r = l.nanosPerToken()[MoeLinear.SHIFT] / l.nanosPerToken()[MoeLinear.MULT];
            rMin = Math.min(rMin, r);
            rMax = Math.max(rMax, r);
        }
        Map<String, String> out = new LinkedHashMap<>();
        out.put("alpha (Shift) per MoE layer", String.format("%.3f to %.3f", aMin, aMax));
        // Fixed or energy-derived α times no expert: the range stays empty.
        out.put("measured Shift/Mult latency per token", rMin > rMax ? "not measured (alpha not from latency)"
                : String.format("%.2fx to %.2fx", rMin, rMax));
        return out;
    }

    private interface Step {
        void run() throws IOException;
    }

    private static void stage(String name, Path output, Step step) throws IOException {
        if (Files.exists(output)) {
            System.err.printf("[%s] reusing %s%n", name, output);
            return;
        }
        System.err.printf("[%s] converting%n", name);
        step.run();
    }

    private void finetune(String name, Path init, Path output, int epochs, float lr, TrainRun.Data data,
                          String command, Path teacher) throws IOException {
        if (Files.exists(output)) {
            System.err.printf("[%s] reusing fine-tuned %s%n", name, output);
            return;
        }
        Path ckpt = TrainRun.checkpointFor(output);
        Checkpoints.Loaded resumed = Files.exists(ckpt) ? TrainRun.resumeFrom(ckpt) : null;
        System.err.printf("[%s] fine-tuning %d epochs at lr %s%s%n", name, epochs, lr,
                resumed != null ? " (resuming)" : "");
        TrainConfig d = limits.defaults(TrainOptions.FINETUNE);
        TrainConfig tc = new TrainConfig(epochs, batchSize, lr, d.minLr(), d.warmupEpochs(), d.weightDecay(),
                d.labelSmoothing(), d.clipNorm(), d.augment(), seed);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(CheckpointKeys.TRAIN_INIT, init.toString());
        meta.put(CheckpointKeys.TRAIN_COMMAND, command);
        meta.put(CheckpointKeys.PIPELINE_STAGE, name);
        Checkpoints.Loaded start = resumed != null ? resumed : Checkpoints.load(init);
        meta.putAll(Checkpoints.inherited(start.metadata()));
        TrainRun.run(start.model(), resumed, tc, data, output, ckpt, 0, meta,
                distill.teacher(teacher));
    }

    private static void save(Path file, Model m, Path parent, String command, Map<String, String> inherited)
            throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(inherited);
        meta.put(CheckpointKeys.REPARAM_COMMAND, command);
        meta.put(CheckpointKeys.REPARAM_PARENT, parent.toString());
        Checkpoints.save(file, m, null, meta);
        System.err.printf("wrote %s (%s, %,d parameters)%n", file, m.shiftAdd().stage(), m.parameterCount());
    }
}
