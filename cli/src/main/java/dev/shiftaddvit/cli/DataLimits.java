package dev.shiftaddvit.cli;

import dev.shiftaddvit.data.Augment;
import dev.shiftaddvit.data.ImageFolder;
import dev.shiftaddvit.data.RandomResizedCrop;
import dev.shiftaddvit.data.Resize;
import dev.shiftaddvit.data.TrainValFolders;
import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.train.TrainConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The training commands' data: Fashion-MNIST, or a user's class folders (--images DIR with DIR/train/&lt;class&gt;/
 * and DIR/val/&lt;class&gt;/), optionally cut down by --limit / --eval-limit (smoke runs).
 */
final class DataLimits {
    @Option(names = "--limit", description = "Train on the first N training images only (smoke tests); with "
            + "--images, on N images evenly spaced over the sorted files, so that every class stays.") Integer limit;
    @Option(names = "--eval-limit", description = "Evaluate on the first N test images only (with --images: N "
            + "evenly spaced ones).") Integer evalLimit;

    @Option(names = "--images", paramLabel = "DIR", description = "Train on DIR/train/<class>/*.jpg|png and evaluate "
            + "on DIR/val/<class>/*.jpg|png (labels: sorted folder names) instead of Fashion-MNIST.")
    Path images;

    @Option(names = "--crop-scale", defaultValue = "0.08", description = "With --images: smallest area fraction of "
            + "the random resized crop of training images (default ${DEFAULT-VALUE}).")
    double cropScale;

    @Option(names = "--no-resized-crop", description = "With --images: train on the evaluation transform (resize, "
            + "centre crop) instead of random resized crops.")
    boolean noResizedCrop;

    @Mixin
    ImageOptions imageOptions;

    /** The data for a model of this config; with --images it must take RGB input and have one class per folder. */
    TrainRun.Data load(CommonOptions common, ModelConfig config) {
        if (limit != null && limit < 1) throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
        if (evalLimit != null && evalLimit < 1) {
            throw new IllegalArgumentException("--eval-limit must be at least 1, got " + evalLimit);
        }
        if (images == null) {
            if (config.inChans() != 1) {
                throw new IllegalArgumentException("Fashion-MNIST is 1-channel; model " + config.name() + " takes "
                        + config.inChans() + "-channel input: pass --images DIR");
            }
            return TrainRun.Data.fashionMnist(common.data, limit, evalLimit);
        }
        TrainValFolders f = folders(images, config, imageOptions);
        ImageFolder train = f.train();
        if (!noResizedCrop) {
            train = train.withTrainCrop(new RandomResizedCrop(config.imgSize(), cropScale,
                    Resize.Filter.parse(imageOptions.interpolation)));
        }
        ImageFolder val = f.val();
        if (limit != null) train = train.evenlySpaced(limit);
        if (evalLimit != null) val = val.evenlySpaced(evalLimit);
        System.err.printf("images: %,d for training, %,d for evaluation in %d classes under %s (%s)%n", train.n(),
                val.n(), f.train().classes().size(), images, noResizedCrop ? "training on centre crops"
                        : "training on random resized crops, scale " + cropScale + " to 1");
        return new TrainRun.Data(images, train, val, val, f.train().classes());
    }

    /** With --images, the hyper-parameter defaults without the random padded crop (the resized crop replaces it). */
    TrainConfig defaults(TrainConfig d) {
        if (images == null) return d;
        Augment a = d.augment();
        return new TrainConfig(d.epochs(), d.batchSize(), d.lr(), d.minLr(), d.warmupEpochs(), d.weightDecay(),
                d.labelSmoothing(), d.clipNorm(), new Augment(0, a.flip(), a.eraseProb()), d.seed());
    }

    /**
     * The class folders under {@code dir} with the model's evaluation transform; refuses a model that does not take
     * RGB input or whose class count differs from the folders'.
     */
    static TrainValFolders folders(Path dir, ModelConfig config, ImageOptions o) {
        requireRgb(config);
        TrainValFolders f = TrainValFolders.open(dir, o.preprocess(config));
        int classes = f.train().classes().size();
        if (classes != config.numClasses()) {
            throw new InvalidInputException(f.train().source(), classes + " class folders, but model " + config.name()
                    + " has " + config.numClasses() + " classes (train --model CONFIG --images DIR sizes a new "
                    + "model's head to the folders)");
        }
        return f;
    }

    static void requireRgb(ModelConfig config) {
        if (config.inChans() != 3) {
            throw new IllegalArgumentException("--images needs a model taking RGB input; " + config.name() + " takes "
                    + config.inChans() + "-channel " + config.imgSize() + " px images");
        }
    }
}
