package dev.shiftaddvit.train;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.data.Augment;

import java.util.LinkedHashMap;
import java.util.Map;

/** Hyper-parameters of a training run; recorded in every checkpoint's metadata. */
public record TrainConfig(int epochs, int batchSize, float lr, float minLr, float warmupEpochs, float weightDecay,
                          float labelSmoothing, float clipNorm, Augment augment, long seed) {
    public TrainConfig {
        if (epochs <= 0) throw new IllegalArgumentException("epochs must be positive, got " + epochs);
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        nonNegative("min lr", minLr);
        nonNegative("warm-up epochs", warmupEpochs);
        nonNegative("weight decay", weightDecay);
        nonNegative("clip norm", clipNorm);
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
        }
    }

    /** NaN fails too: a comparison with NaN is false. */
    private static void nonNegative(String what, float v) {
        if (!(v >= 0) || Float.isInfinite(v)) throw new IllegalArgumentException(what + " must be finite and >= 0, got " + v);
    }

    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(CheckpointKeys.TRAIN_EPOCHS, Integer.toString(epochs));
        m.put(CheckpointKeys.TRAIN_BATCH_SIZE, Integer.toString(batchSize));
        m.put(CheckpointKeys.TRAIN_LR, Float.toString(lr));
        m.put(CheckpointKeys.TRAIN_MIN_LR, Float.toString(minLr));
        m.put(CheckpointKeys.TRAIN_WARMUP_EPOCHS, Float.toString(warmupEpochs));
        m.put(CheckpointKeys.TRAIN_WEIGHT_DECAY, Float.toString(weightDecay));
        m.put(CheckpointKeys.TRAIN_LABEL_SMOOTHING, Float.toString(labelSmoothing));
        m.put(CheckpointKeys.TRAIN_CLIP_NORM, Float.toString(clipNorm));
        m.put(CheckpointKeys.TRAIN_AUGMENT, "crop_pad=" + augment.padding() + ",flip=" + augment.flip() + ",erase="
                + augment.eraseProb());
        m.put(CheckpointKeys.TRAIN_SEED, Long.toString(seed));
        return m;
    }
}
