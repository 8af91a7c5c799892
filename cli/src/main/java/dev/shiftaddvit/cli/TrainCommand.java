package dev.shiftaddvit.cli;

import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.train.Checkpoints;
import dev.shiftaddvit.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model from a named config on Fashion-MNIST; checkpoints every epoch, --resume continues.",
                "Defaults: 12 epochs, batch 128, lr 2e-3 (min 1e-5), warm-up 1, weight decay 0.05, label smoothing 0.1, "
                        + "clip 1, crop pad 2, flips, erase 0.25, seed 0."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--model", defaultValue = "pvt_v2_fmnist", description = "Config name (default: ${DEFAULT-VALUE}).")
    String modelName;

    @Option(names = "--out", required = true, description = "Where to write the trained model (safetensors).")
    Path out;

    @Option(names = "--checkpoint", description = "Training checkpoint with optimizer state (default: <out>.ckpt).")
    Path checkpoint;

    @Option(names = "--resume", description = "Continue from the checkpoint.")
    boolean resume;

    @Option(names = "--init", description = "Start from the weights of this model file (a fine-tune: fresh optimizer and schedule).")
    Path init;

    @Mixin
    TrainOptions hyper;

    @Mixin
    DataLimits limits;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Also checkpoint every N steps.") int every;

    @Override
    public Integer call() throws IOException {
        common.apply();
        TrainRun.Data data = limits.load(common);
        Path ckpt = checkpoint != null ? checkpoint : TrainRun.checkpointFor(out);
        TrainConfig tc = hyper.resolve(TrainOptions.TRAIN);
        Map<String, String> meta = new LinkedHashMap<>();
        if (resume && init != null) throw new IllegalArgumentException("--resume and --init exclude each other");
        Model model = null;
        if (init != null) {
            Checkpoints.Loaded from = Checkpoints.load(init);
            model = from.model();
            meta.put("train.init", init.toString());
            String before = from.metadata().get("train.command");
            if (before != null) meta.put("train.init_command", before);
            System.err.printf("fine-tuning %s from %s%n", model.config().name(), init);
        } else if (!resume) {
            model = Configs.byName(modelName).build(tc.seed());
        }
        meta.put("train.command", CommandLineCapture.commandLine());
        meta.put("train.data", data.dir().toString());
        TrainRun.run(model, tc, data.train(), data.test(), out, ckpt, resume, every, meta);
        return 0;
    }
}
