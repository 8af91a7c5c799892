package dev.shiftaddvit.cli;

import dev.shiftaddvit.data.Augment;
import dev.shiftaddvit.train.TrainConfig;
import picocli.CommandLine.Option;

/**
 * Hyper-parameter flags shared by train, finetune and pipeline; a flag left out takes the calling
 * command's default (dense training and fine-tuning want different ones).
 */
final class TrainOptions {
    /** Dense training from scratch: the recipe of the default model's first run. */
    static final TrainConfig TRAIN = new TrainConfig(12, 128, 2e-3f, 1e-5f, 1f, 0.05f, 0.1f, 1f,
            new Augment(2, true, 0.25f), 0);
    /** A short fine-tune after reparameterisation: lower peak rate, short warm-up, no erasing. */
    static final TrainConfig FINETUNE = new TrainConfig(3, 128, 5e-4f, 1e-6f, 0.2f, 0.05f, 0.1f, 1f,
            new Augment(2, true, 0f), 0);

    @Option(names = "--epochs", description = "Epochs.") Integer epochs;
    @Option(names = "--batch-size") Integer batchSize;
    @Option(names = "--lr", description = "Peak learning rate.") Float lr;
    @Option(names = "--min-lr") Float minLr;
    @Option(names = "--warmup", description = "Warm-up epochs (fractional allowed).") Float warmup;
    @Option(names = "--weight-decay") Float weightDecay;
    @Option(names = "--label-smoothing") Float labelSmoothing;
    @Option(names = "--clip", description = "Gradient global-norm clip (0: off).") Float clip;
    @Option(names = "--crop-pad", description = "Random-crop padding in pixels.") Integer cropPad;
    @Option(names = "--no-flip", description = "Disable random horizontal flips.") boolean noFlip;
    @Option(names = "--erase", description = "Random-erasing probability.") Float erase;
    @Option(names = "--seed") Long seed;

    TrainConfig resolve(TrainConfig d) {
        positive("--epochs", epochs);
        positive("--batch-size", batchSize);
        if (lr != null && !(lr > 0 && lr < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("--lr must be a finite number > 0, got " + lr);
        }
        nonNegative("--min-lr", minLr);
        nonNegative("--warmup", warmup);
        nonNegative("--weight-decay", weightDecay);
        nonNegative("--clip", clip);
        if (labelSmoothing != null && !(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("--label-smoothing must be in [0, 1), got " + labelSmoothing);
        }
        if (cropPad != null && cropPad < 0) throw new IllegalArgumentException("--crop-pad must be >= 0, got " + cropPad);
        if (erase != null && !(erase >= 0 && erase <= 1)) {
            throw new IllegalArgumentException("--erase must be a probability in [0, 1], got " + erase);
        }
        Augment a = d.augment();
        return new TrainConfig(or(epochs, d.epochs()), or(batchSize, d.batchSize()), or(lr, d.lr()),
                or(minLr, d.minLr()), or(warmup, d.warmupEpochs()), or(weightDecay, d.weightDecay()),
                or(labelSmoothing, d.labelSmoothing()), or(clip, d.clipNorm()),
                new Augment(or(cropPad, a.padding()), !noFlip && a.flip(), or(erase, a.eraseProb())),
                or(seed, d.seed()));
    }

    private static void positive(String flag, Integer v) {
        if (v != null && v < 1) throw new IllegalArgumentException(flag + " must be at least 1, got " + v);
    }

    /** NaN and infinity fail too: a comparison with NaN is false. */
    private static void nonNegative(String flag, Float v) {
        if (v != null && !(v >= 0 && v < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(flag + " must be a finite number >= 0, got " + v);
        }
    }

    private static <T> T or(T flag, T fallback) {
        return flag != null ? flag : fallback;
    }
}
