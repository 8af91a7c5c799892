package dev.shiftaddvit.train;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model checkpoints as safetensors: parameters under their timm names, optional extra tensors
 * (optimizer moments), and metadata holding the model config, the command and the training state.
 */
public final class Checkpoints {
    private Checkpoints() {
    }

    /** A model rebuilt from a checkpoint, with its metadata and any non-parameter tensors. */
    public record Loaded(Model model, Map<String, String> metadata, Map<String, Tensor> extras) {
        public int nextEpoch() {
            return Integer.parseInt(metadata.getOrDefault("train.next_epoch", "0"));
        }

        public int nextStep() {
            return Integer.parseInt(metadata.getOrDefault("train.next_step", "0"));
        }

        public long optimizerStep() {
            return Long.parseLong(metadata.getOrDefault("train.optimizer_step", "0"));
        }
    }

    public static void save(Path path, Model model, Map<String, Tensor> extras, Map<String, String> meta)
            throws IOException {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) tensors.put(p.name(), p.value());
        if (extras != null) tensors.putAll(extras);
        Map<String, String> all = new LinkedHashMap<>(model.config().toMetadata());
        all.putAll(meta);
        Safetensors.write(path, tensors, all);
    }

    public static Loaded load(Path path) {
        try (SafetensorsFile f = Safetensors.read(path)) {
            return load(f, path.toString());
        }
    }

    private static Loaded load(SafetensorsFile f, String src) {
        ModelConfig cfg;
        try {
            cfg = ModelConfig.fromMetadata(f.metadata(), src);
        } catch (ConfigException e) {
            throw new InvalidInputException(src, e.getMessage().replace(src + ": ", ""));
        }
        long stored = 0;
        for (var e : f.entries()) stored += e.elementCount();
        // Far more parameters than stored values means hostile or mismatched metadata: refuse before
        // allocating. Near misses fall through to the per-tensor report below, which names them all.
        if (cfg.minParameters() > 2 * stored + 1_000_000) {
            throw new InvalidInputException(src, "metadata describes model " + cfg.name() + " with at least "
                    + cfg.minParameters() + " parameters but the file holds only " + stored + " values");
        }
        Model model = cfg.build(0);
        List<String> missing = new ArrayList<>();
        List<String> wrongShape = new ArrayList<>();
        Map<String, Parameter> named = model.namedParameters();
        for (Parameter p : named.values()) {
            if (!f.contains(p.name())) {
                missing.add(p.name());
                continue;
            }
            Tensor t = f.tensor(p.name());
            if (!t.sameShape(p.value())) {
                wrongShape.add(p.name() + " (expected " + java.util.Arrays.toString(p.value().shape()) + ", found "
                        + java.util.Arrays.toString(t.shape()) + ")");
                continue;
            }
            System.arraycopy(t.data(), 0, p.value().data(), 0, t.size());
        }
        if (!missing.isEmpty() || !wrongShape.isEmpty()) {
            StringBuilder sb = new StringBuilder("checkpoint does not fit model " + cfg.name());
            if (!missing.isEmpty()) sb.append("; missing tensors: ").append(String.join(", ", missing));
            if (!wrongShape.isEmpty()) sb.append("; shape mismatches: ").append(String.join(", ", wrongShape));
            throw new InvalidInputException(src, sb.toString());
        }
        Map<String, Tensor> extras = new LinkedHashMap<>();
        for (var e : f.entries()) {
            if (!named.containsKey(e.name())) extras.put(e.name(), f.tensor(e.name()));
        }
        return new Loaded(model, f.metadata(), extras);
    }
}
