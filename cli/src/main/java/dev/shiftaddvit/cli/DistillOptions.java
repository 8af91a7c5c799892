package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.train.DistillConfig;
import dev.shiftaddvit.train.Teacher;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;

/** Distillation from the dense parent, shared by finetune and pipeline ({@link DistillConfig}). */
final class DistillOptions {
    @Option(names = "--teacher", paramLabel = "FILE", description = "The dense parent to distil from (finetune: off "
            + "without it; pipeline: the --model parent).")
    Path teacher;

    @Option(names = "--distill", paramLabel = "soft|hard|none", description = "soft: KL divergence to the parent's "
            + "temperature-softened logits; hard: cross-entropy to its top-1 (DeiT); none: labels only "
            + "(default: soft with a teacher).")
    String kind;

    @Option(names = "--distill-temperature", description = "Softmax temperature of soft distillation (default: 2).")
    Float temperature;

    @Option(names = "--distill-weight", description = "Share of the distillation term in the loss, in [0, 1] "
            + "(default: 0.5).")
    Float weight;

    @Option(names = "--block-match", paramLabel = "W", description = "Also pull every converted block's output "
            + "towards the parent's with mean squared error of weight W (default: 0, off).")
    Float blockWeight;

    /** The settings, refusing bad values by flag. */
    DistillConfig config() {
        DistillConfig d = DistillConfig.DEFAULT;
        DistillConfig.Kind k = d.kind();
        if (kind != null) {
            try {
                k = DistillConfig.Kind.valueOf(kind.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--distill must be soft, hard or none, got '" + kind + "'");
            }
        }
        if (temperature != null && !(temperature > 0 && temperature < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("--distill-temperature must be a finite number > 0, got " + temperature);
        }
        if (weight != null && !(weight >= 0 && weight <= 1)) {
            throw new IllegalArgumentException("--distill-weight must be in [0, 1], got " + weight);
        }
        if (blockWeight != null && !(blockWeight >= 0 && blockWeight < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("--block-match must be a finite number >= 0, got " + blockWeight);
        }
        return new DistillConfig(k, temperature != null ? temperature : d.temperature(),
                weight != null ? weight : d.weight(), blockWeight != null ? blockWeight : d.blockWeight());
    }

    /** Whether any distillation flag was given. */
    boolean anyGiven() {
        return teacher != null || kind != null || temperature != null || weight != null || blockWeight != null;
    }

    /**
     * The teacher from {@code parent}, or null when distillation is off. The file is loaded for each call,
     * so every fine-tune gets its own copy.
     */
    Teacher teacher(Path parent) {
        DistillConfig c = config();
        if (parent == null || !c.enabled()) return null;
        return new Teacher(Checkpoints.load(parent).model(), c, parent.toString());
    }
}
