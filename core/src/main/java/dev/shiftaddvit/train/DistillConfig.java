package dev.shiftaddvit.train;

import dev.shiftaddvit.checkpoint.CheckpointKeys;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How a fine-tune learns from its dense parent.
 *
 * <ul>
 *   <li>{@link Kind#SOFT}: loss = (1 − w)·CE(student, labels) + w·T²·KL(softmax(t/T) ‖ softmax(s/T))
 *       (Hinton et al.; T² keeps the gradient's scale independent of T).</li>
 *   <li>{@link Kind#HARD}: loss = (1 − w)·CE(student, labels) + w·CE(student, argmax teacher), DeiT's
 *       hard-label distillation on the one classification head.</li>
 *   <li>{@code blockWeight} β &gt; 0 adds β·mean over converted blocks of MSE(student block output,
 *       parent block output), the block-wise matching of layer-by-layer replacement.</li>
 * </ul>
 */
public record DistillConfig(Kind kind, float temperature, float weight, float blockWeight) {
    public enum Kind { NONE, SOFT, HARD }

    /** The fine-tune default: soft targets at T = 2, half the loss; no block matching. */
    public static final DistillConfig DEFAULT = new DistillConfig(Kind.SOFT, 2f, 0.5f, 0f);

    public DistillConfig {
        if (kind == null) throw new IllegalArgumentException("distillation kind must be given");
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("distillation temperature must be a finite number > 0, got " + temperature);
        }
        if (!(weight >= 0 && weight <= 1)) {
            throw new IllegalArgumentException("distillation weight must be in [0, 1], got " + weight);
        }
        if (!(blockWeight >= 0) || Float.isInfinite(blockWeight)) {
            throw new IllegalArgumentException("block-matching weight must be a finite number >= 0, got " + blockWeight);
        }
    }

    public boolean enabled() {
        return kind != Kind.NONE || blockWeight > 0;
    }

    /** Recorded with the run and compared on resume. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(CheckpointKeys.TRAIN_DISTILL, String.format(Locale.ROOT, "%s,temperature=%s,weight=%s,block_weight=%s",
                kind.name().toLowerCase(Locale.ROOT), temperature, weight, blockWeight));
        return m;
    }
}
