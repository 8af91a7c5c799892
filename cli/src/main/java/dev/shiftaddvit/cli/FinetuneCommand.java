package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Fine-tune a (reparameterised) model with the same trainer as dense training: fresh optimizer "
                + "and schedule, checkpoints every epoch, --resume continues. Data: Fashion-MNIST, or your own "
                + "images with --images DIR (DIR/train/<class>/, DIR/val/<class>/; one class per folder).",
                "Defaults: 3 epochs, batch 128, lr 5e-4 (min 1e-6), warm-up 0.2, weight decay 0.05, label smoothing 0.1, "
                        + "clip 1, crop pad 2 (0 with --images, which crops with random resized crops), flips, "
                        + "no erasing, seed 0.",
                "With --teacher PARENT the loss also learns from the dense parent: soft targets at temperature 2, "
                        + "weight 0.5 (--distill, --distill-temperature, --distill-weight), optionally block outputs "
                        + "matched to the parent's (--block-match W)."})
final class FinetuneCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    TrainOptions hyper;

    @Option(names = "--model", required = true, description = "The model file to fine-tune.")
    Path model;

    @Option(names = "--out", required = true, description = "Where to write the fine-tuned model.")
    Path out;

    @Option(names = "--resume", description = "Continue from <out>.ckpt.")
    boolean resume;

    @Mixin
    DataLimits limits;

    @Mixin
    DistillOptions distill;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Also checkpoint every N steps.") int every;

    @Override
    public Integer call() throws IOException {
        common.apply();
        if (distill.anyGiven() && distill.teacher == null) {
            throw new IllegalArgumentException("--distill, --distill-temperature, --distill-weight and --block-match "
                    + "need --teacher FILE, the dense parent to learn from");
        }
        distill.config();
        Path ckpt = TrainRun.checkpointFor(out);
        TrainRun.requireWritable(out, ckpt);
        Checkpoints.Loaded resumed = resume ? TrainRun.resumeFrom(ckpt) : null;
        Checkpoints.Loaded from = Checkpoints.load(model);
        Model m = resumed != null ? resumed.model() : from.model();
        TrainRun.Data data = limits.load(common, m.config());
        Map<String, String> meta = new LinkedHashMap<>(Checkpoints.inherited(from.metadata()));
        meta.put(CheckpointKeys.TRAIN_INIT, model.toString());
        for (String k : new String[]{CheckpointKeys.REPARAM_COMMAND, CheckpointKeys.REPARAM_PARENT,
                CheckpointKeys.TRAIN_COMMAND}) {
            String v = from.metadata().get(k);
            if (v != null) meta.put(k.equals(CheckpointKeys.TRAIN_COMMAND) ? CheckpointKeys.TRAIN_INIT_COMMAND : k, v);
        }
        meta.put(CheckpointKeys.TRAIN_COMMAND, CommandLineCapture.commandLine());
        meta.put(CheckpointKeys.TRAIN_DATA, data.source().toString());
        TrainRun.run(m, resumed, hyper.resolve(limits.defaults(TrainOptions.FINETUNE)), data, out, ckpt, every, meta,
                distill.teacher(distill.teacher));
        return 0;
    }
}
