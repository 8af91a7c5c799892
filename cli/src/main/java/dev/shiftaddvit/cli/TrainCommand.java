package dev.shiftaddvit.cli;

import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.train.Augment;
import dev.shiftaddvit.train.BatchSource;
import dev.shiftaddvit.train.Checkpoints;
import dev.shiftaddvit.train.TrainConfig;
import dev.shiftaddvit.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a model from a named config on Fashion-MNIST; checkpoints every epoch, --resume continues.")
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

    @Option(names = "--epochs", defaultValue = "12") int epochs;
    @Option(names = "--batch-size", defaultValue = "128") int batchSize;
    @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate.") float lr;
    @Option(names = "--min-lr", defaultValue = "1e-5") float minLr;
    @Option(names = "--warmup", defaultValue = "1", description = "Warm-up epochs (fractional allowed).") float warmup;
    @Option(names = "--weight-decay", defaultValue = "0.05") float weightDecay;
    @Option(names = "--label-smoothing", defaultValue = "0.1") float labelSmoothing;
    @Option(names = "--clip", defaultValue = "1.0", description = "Gradient global-norm clip (0: off).") float clip;
    @Option(names = "--crop-pad", defaultValue = "2", description = "Random-crop padding in pixels.") int cropPad;
    @Option(names = "--no-flip", description = "Disable random horizontal flips.") boolean noFlip;
    @Option(names = "--erase", defaultValue = "0.25", description = "Random-erasing probability.") float erase;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--limit", description = "Train on the first N training images only (smoke tests).") Integer limit;
    @Option(names = "--eval-limit", description = "Evaluate on the first N test images only.") Integer evalLimit;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Also checkpoint every N steps.") int every;

    @Override
    public Integer call() throws IOException {
        common.apply();
        Path dir = DefaultModels.dataDir(common.data).orElseThrow(() -> new IllegalArgumentException(
                "Fashion-MNIST not found in " + FashionMnist.DEFAULT_DIR
                        + "; install it (apt-get install dataset-fashion-mnist) or pass --data DIR"));
        Dataset trainSet = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
        Dataset testSet = FashionMnist.load(dir, FashionMnist.Split.TEST);
        if (limit != null) trainSet = trainSet.subset(0, Math.min(limit, trainSet.n()));
        if (evalLimit != null) testSet = testSet.subset(0, Math.min(evalLimit, testSet.n()));
        Path ckpt = checkpoint != null ? checkpoint : out.resolveSibling(out.getFileName() + ".ckpt");
        TrainConfig tc = new TrainConfig(epochs, batchSize, lr, minLr, warmup, weightDecay, labelSmoothing, clip,
                new Augment(cropPad, !noFlip, erase), seed);

        Model model;
        int startEpoch = 0;
        int startStep = 0;
        Checkpoints.Loaded resumed = null;
        Map<String, String> meta = new LinkedHashMap<>();
        if (resume && init != null) throw new IllegalArgumentException("--resume and --init exclude each other");
        if (resume) {
            if (!Files.exists(ckpt)) throw new IllegalArgumentException("--resume: no checkpoint at " + ckpt);
            resumed = Checkpoints.load(ckpt);
            model = resumed.model();
            startEpoch = resumed.nextEpoch();
            startStep = resumed.nextStep();
            System.err.printf("resuming %s from %s at epoch %d, step %d%n", model.config().name(), ckpt,
                    startEpoch + 1, startStep);
        } else if (init != null) {
            Checkpoints.Loaded from = Checkpoints.load(init);
            model = from.model();
            meta.put("train.init", init.toString());
            String before = from.metadata().get("train.command");
            if (before != null) meta.put("train.init_command", before);
            System.err.printf("fine-tuning %s from %s%n", model.config().name(), init);
        } else {
            ModelConfig mc = Configs.byName(modelName);
            model = mc.build(seed);
        }
        ModelConfig mc = model.config();
        meta.put("train.command", "shiftaddvit train " + String.join(" ", CommandLineCapture.args()));
        meta.put("train.data", dir.toString());
        BatchSource train = new BatchSource(trainSet, mc.mean(), mc.std());
        BatchSource test = new BatchSource(testSet, mc.mean(), mc.std());
        System.err.printf("training %s (%,d parameters) on %,d images, %d epochs, batch %d, seed %d, %d threads%n",
                mc.name(), model.parameterCount(), trainSet.n(), epochs, batchSize, seed,
                dev.shiftaddvit.kernel.Parallel.threads());
        long t0 = System.nanoTime();
        TrainProgress progress = new TrainProgress(epochs);
        Trainer trainer = new Trainer(model, tc, train, test, ckpt, meta, progress).checkpointEvery(every);
        if (resumed != null) trainer.optimizer().restore(resumed.optimizerStep(), resumed.extras(), ckpt.toString());
        Trainer.EpochStats last;
        try {
            last = trainer.run(startEpoch, startStep);
        } finally {
            progress.close();
        }
        double minutes = (System.nanoTime() - t0) / 6e10;
        meta.putAll(tc.toMetadata());
        meta.put("train.minutes_this_run", String.format("%.1f", minutes));
        if (last != null && last.eval() != null) {
            meta.put("eval.top1", String.format("%.2f", last.eval().top1()));
            meta.put("eval.images", Integer.toString(last.eval().images()));
        }
        Checkpoints.save(out, model, null, meta);
        System.err.printf("wrote %s (%.1f min)%n", out, minutes);
        if (last != null && last.eval() != null) {
            System.out.printf("top-1 %.2f%% on %d test images%n", last.eval().top1(), last.eval().images());
        }
        return 0;
    }
}
