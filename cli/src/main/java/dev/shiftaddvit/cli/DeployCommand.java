package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.eval.Agreement;
import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.model.Deploy;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.shiftadd.ShiftCodeBits;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "deploy", mixinStandardHelpOptions = true,
        description = {"Freeze a converted model for inference: its Shift experts are stored as packed 5-bit sign/shift "
                + "codes and run on the deploy shift kernel (the add-attention already runs MatAdd on bit codes).",
                "--shift-only T also drops the router and the Mult expert of every layer whose routing on calibration "
                + "images sent at least the share T of its tokens to Shift.",
                "The deploy file is read wherever a model file is (eval, predict, info, bench)."})
final class DeployCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--model", required = true, description = "The converted (fine-tuned) model file.")
    Path model;

    @Option(names = "--out", required = true, description = "Where to write the deploy file (safetensors).")
    Path out;

    @Option(names = "--check", description = "Run the float simulation and the deployed file over the test set (or "
            + "the bundled sample) and compare their predictions and logits.")
    boolean check;

    @Option(names = "--sample", description = "With --check: use the bundled 1,000-image sample even when the full test "
            + "set is installed.")
    boolean sample;

    @Option(names = "--batch-size", defaultValue = "256") int batchSize;

    @Option(names = "--shift-only", paramLabel = "T", description = "Drop router and Mult expert where the calibration "
            + "routing sent at least this share of a layer's tokens to Shift (in (0, 1], e.g. 0.95).")
    Double shiftOnly;

    @Option(names = "--calibration-images", defaultValue = "512", description = "With --shift-only: the training "
            + "images (Fashion-MNIST's train split, else the bundled sample) the routing is measured on.")
    int calibrationImages;

    @Override
    public Integer call() throws IOException {
        common.apply();
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        if (shiftOnly != null && !(shiftOnly > 0 && shiftOnly <= 1)) {
            throw new IllegalArgumentException("--shift-only must be in (0, 1], got " + shiftOnly);
        }
        if (calibrationImages < 1) {
            throw new IllegalArgumentException("--calibration-images must be at least 1, got " + calibrationImages);
        }
        AtomicFiles.requireWritable(out);
        Checkpoints.Loaded in = Checkpoints.load(model);
        Model m = in.model();
        List<MoeLinear> layers = Reparam.moeLayers(m);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException(model + " has no Mult/Shift layers (stage " + m.shiftAdd().stage()
                    + "); convert it with `reparam --stage moe` first");
        }
        Map<String, String> meta = new LinkedHashMap<>(Checkpoints.inherited(in.metadata()));
        meta.put(CheckpointKeys.DEPLOY_COMMAND, CommandLineCapture.commandLine());
        meta.put(CheckpointKeys.DEPLOY_PARENT, model.toString());
        if (shiftOnly != null) dropRouters(m, meta);
        DeployFile.save(out, m, meta);
        long weights = 0;
        long packed = 0;
        long converted = 0;
        long parent = 0;
        for (MoeLinear l : layers) {
            long n = (long) l.in() * l.out();
            long bias = l.mult().bias() == null ? 0 : l.out();
            weights += n;
            packed += ShiftCodeBits.packedBytes(n);
            parent += 4 * (n + bias);
            // the layer's bytes in the deploy file: codes and float bias, plus router and Mult expert unless dropped
            converted += ShiftCodeBits.packedBytes(n) + 4 * bias
                    + (l.isShiftOnly() ? 0 : 4 * (n + bias + (long) MoeLinear.EXPERTS * (l.in() + 1)));
        }
        System.out.printf("wrote %s: %d Shift experts, %,d shift weights%n", out, layers.size(), weights);
        System.out.printf("file size: %s %,d bytes, %s %,d bytes%n", model, Files.size(model), out, Files.size(out));
        System.out.printf("shift weights: fp32 %,d bytes (trained as float shift + sign: %,d), packed 5-bit %,d bytes "
                + "(%.1fx smaller than fp32)%n", 4 * weights, 8 * weights, packed, 4.0 * weights / packed);
        System.out.printf("converted layers in the deploy file: %,d bytes against %,d bytes of their fp32 parent "
                + "(%s)%n", converted, parent, converted <= parent
                        ? String.format("%.2fx smaller", (double) parent / converted)
                        : String.format("%.2fx larger: routers and Mult experts kept", (double) converted / parent));
        if (!check) return 0;
        // A deploy file given as --model is already deployed: its simulation is the float model of the same codes.
        Model simulated = DeployFile.isDeployFile(in.metadata()) ? DeployFile.loadSimulated(model).model() : m;
        Model deployed = Checkpoints.load(out).model();
        Dataset data = DefaultModels.testSet(common.data, sample);
        BatchSource src = new BatchSource(data, m.config().mean(), m.config().std());
        Agreement a;
        try (Progress p = new Progress("check " + m.config().name(), data.n(), 0)) {
            a = Agreement.measure(simulated, deployed, src, batchSize, n -> p.step(n, ""));
        }
        System.out.printf("check on %s (%d images): top-1 simulated %.2f%%, deployed %.2f%%; top-1 differs on %d "
                + "images; max |dlogit| %.3g%n", data.source(), a.images(), a.top1A(), a.top1B(), a.differing(),
                a.maxAbsDiff());
        return 0;
    }

    /** Measures the routing on calibration images and deploys shift-only the layers at or above the threshold. */
    private void dropRouters(Model m, Map<String, String> meta) {
        Dataset calibration = DefaultModels.calibrationSet(common.data, calibrationImages);
        if (calibration.n() > calibrationImages) calibration = calibration.subset(0, calibrationImages);
        BatchSource src = new BatchSource(calibration, m.config().mean(), m.config().std());
        int images = calibration.n();
        Deploy.resetRouting(m);
        for (int i = 0; i * batchSize < images; i++) m.forward(src.sequential(i, batchSize).images(), false);
        List<Deploy.LayerRouting> routing = Deploy.routing(m);
        List<String> dropped;
        try {
            dropped = Deploy.shiftOnly(m, routing, shiftOnly);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--shift-only " + shiftOnly + " on " + model + ": " + e.getMessage()
                    + " (convert with --gate straight-through to drop routers)");
        }
        System.out.printf("calibration routing on %d images of %s:%n", images, calibration.source());
        for (Deploy.LayerRouting r : routing) {
            System.out.printf("  %-40s %6.2f%% of %,d tokens on Shift%s%n", r.layer(), 100 * r.shiftShare(),
                    r.multTokens() + r.shiftTokens(), dropped.contains(r.layer()) ? "  -> shift-only" : "");
        }
        System.out.printf("%d of %d layers shift-only (Shift share >= %.4g)%n", dropped.size(), routing.size(), shiftOnly);
        meta.put(CheckpointKeys.DEPLOY_SHIFT_ONLY_THRESHOLD, Double.toString(shiftOnly));
        meta.put(CheckpointKeys.DEPLOY_CALIBRATION, images + " images of " + calibration.source());
    }
}
