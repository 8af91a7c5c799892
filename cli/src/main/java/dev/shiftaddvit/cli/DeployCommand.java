package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.eval.Agreement;
import dev.shiftaddvit.io.AtomicFiles;
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
                + "codes and run on the integer MatShift kernel (the add-attention already runs MatAdd on bit codes).",
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

    @Override
    public Integer call() throws IOException {
        common.apply();
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
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
        DeployFile.save(out, m, meta);
        long weights = 0;
        long packed = 0;
        for (MoeLinear l : layers) {
            long n = (long) l.in() * l.out();
            weights += n;
            packed += ShiftCodeBits.packedBytes(n);
        }
        System.out.printf("wrote %s: %d Shift experts, %,d shift weights%n", out, layers.size(), weights);
        System.out.printf("file size: %s %,d bytes, %s %,d bytes%n", model, Files.size(model), out, Files.size(out));
        System.out.printf("shift weights: fp32 %,d bytes (trained as float shift + sign: %,d), packed 5-bit %,d bytes "
                + "(%.1fx smaller than fp32)%n", 4 * weights, 8 * weights, packed, 4.0 * weights / packed);
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
}
