package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;

import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves --model: a safetensors file, or a config name (random weights, for shapes and speed). */
final class ModelRef {
    private ModelRef() {
    }

    static Model resolve(String ref) {
        if (ref == null) return Checkpoints.load(DefaultModels.dense()).model();
        Path p = Path.of(ref);
        if (ref.endsWith(".safetensors") || Files.isRegularFile(p)) {
            if (!Files.exists(p)) throw new IllegalArgumentException("--model " + ref + ": no such file");
            return Checkpoints.load(p).model();
        }
        return Configs.byName(ref).build(0);
    }
}
