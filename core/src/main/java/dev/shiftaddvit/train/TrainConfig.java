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
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        if (minLr < 0 || warmupEpochs < 0 || weightDecay < 0 || clipNorm < 0) {
            throw new IllegalArgumentException("min lr, warm-up, weight decay and clip norm must be non-negative");
        }
        if (labelSmoothing < 0 || labelSmoothing >= 1) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + labelSmoothing);
        }
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
