package dev.shiftaddvit.checkpoint;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.model.ShiftAddSpec;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Model checkpoints as safetensors: parameters under their timm names, the KSH buffers of add-attention
 * layers, optional extra tensors (optimizer moments), and metadata holding the model config, what was
 * reparameterised ({@link ShiftAddSpec}), the command and the training state.
 */
public final class Checkpoints {
    private Checkpoints() {
    }

    /**
     * A model rebuilt from a checkpoint, with its metadata and any non-parameter tensors.
     *
     * @param model    the model the metadata describes, its parameters and buffers loaded and its KSH hashes
     *                 marked trained; deployed when the file is a deploy file
     * @param metadata the file's metadata as stored (model config, reparameterisation, training state, ...)
     * @param extras   the tensors that are neither a parameter nor a buffer of the model (optimizer moments),
     *                 by name; empty when there are none
     */
    public record Loaded(Model model, Map<String, String> metadata, Map<String, Tensor> extras) {
        /**
         * The epoch a resumed run starts at ({@link CheckpointKeys#TRAIN_NEXT_EPOCH}), counted from 0.
         *
         * @return the recorded epoch, or 0 when the file records none
         * @throws NumberFormatException when the recorded value is not an integer
         */
        public int nextEpoch() {
            return Integer.parseInt(metadata.getOrDefault(CheckpointKeys.TRAIN_NEXT_EPOCH, "0"));
        }

        /**
         * The step within {@link #nextEpoch} a resumed run starts at ({@link CheckpointKeys#TRAIN_NEXT_STEP}).
         *
         * @return the recorded step, or 0 when the file records none (as an end-of-epoch checkpoint does)
         * @throws NumberFormatException when the recorded value is not an integer
         */
        public int nextStep() {
            return Integer.parseInt(metadata.getOrDefault(CheckpointKeys.TRAIN_NEXT_STEP, "0"));
        }

        /**
         * The recorded class names ({@link CheckpointKeys#CLASS_NAMES}), or null when the file records none.
         *
         * @return the names in class-index order, one per class of the model (unmodifiable), or null
         * @throws InvalidInputException when the value is not a JSON list of strings, one per class
         */
        public List<String> classNames() {
            String v = metadata.get(CheckpointKeys.CLASS_NAMES);
            if (v == null) return null;
            String src = "class names of " + model.config().name();
            List<String> names = new ArrayList<>();
            if (!(Json.parse(v, src) instanceof List<?> l)) throw new InvalidInputException(src, "not a JSON list");
            for (Object o : l) {
                if (!(o instanceof String s)) throw new InvalidInputException(src, "entry " + o + " is not a string");
                names.add(s);
            }
            if (names.size() != model.config().numClasses()) {
                throw new InvalidInputException(src, names.size() + " names for " + model.config().numClasses()
                        + " classes");
            }
            return List.copyOf(names);
        }

        /**
         * The optimizer's step count when the file was written ({@link CheckpointKeys#TRAIN_OPTIMIZER_STEP}),
         * which a resumed optimizer continues from together with the moments in {@link #extras}.
         *
         * @return the recorded count, or 0 when the file records none
         * @throws NumberFormatException when the recorded value is not an integer
         */
        public long optimizerStep() {
            return Long.parseLong(metadata.getOrDefault(CheckpointKeys.TRAIN_OPTIMIZER_STEP, "0"));
        }
    }

    /**
     * What a file derived from one with {@code parent}'s metadata keeps of it: the class names.
     *
     * @param parent the metadata of the file derived from
     * @return {@link CheckpointKeys#CLASS_NAMES} and its value when the parent records it, else an empty map
     *         (unmodifiable either way)
     */
    public static Map<String, String> inherited(Map<String, String> parent) {
        String names = parent.get(CheckpointKeys.CLASS_NAMES);
        return names == null ? Map.of() : Map.of(CheckpointKeys.CLASS_NAMES, names);
    }

    /**
     * Writes a checkpoint atomically: the model's parameters and buffers, then the extras; the metadata is
     * the model's config and reparameterisation, then {@code meta}, whose keys win.
     *
     * @param path   the file to write; an existing one is replaced
     * @param model  the model to store
     * @param extras further tensors by name (optimizer moments), or null for none; a name the model also
     *               uses replaces the model's tensor
     * @param meta   metadata to add (training state, the command, ...), not null
     * @throws IOException when the file cannot be written
     */
    public static void save(Path path, Model model, Map<String, Tensor> extras, Map<String, String> meta)
            throws IOException {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) tensors.put(p.name(), p.value());
        tensors.putAll(model.buffers());
        if (extras != null) tensors.putAll(extras);
        Map<String, String> all = new LinkedHashMap<>(model.config().toMetadata());
        all.putAll(model.shiftAdd().toMetadata());
        all.putAll(meta);
        Safetensors.write(path, tensors, all);
    }

    /**
     * Loads a checkpoint, or a deploy file ({@link DeployFile}) deployed: its Shift experts run MatShift on its codes.
     *
     * @param path the safetensors file
     * @return the rebuilt model with the file's metadata and extra tensors
     * @throws InvalidInputException when the file is missing or malformed, its metadata describes no valid model,
     *                               or its tensors do not fit that model (missing, misshapen, NaN or infinite)
     */
    public static Loaded load(Path path) {
        try (SafetensorsFile f = Safetensors.read(path)) {
            if (DeployFile.isDeployFile(f.metadata())) return DeployFile.load(f);
            long stored = 0;
            for (var e : f.entries()) stored += e.elementCount();
            return load(path.toString(), f.metadata(), f.names(), f::tensor, stored);
        }
    }

    /**
     * A model from tensors already in memory (e.g. a deploy file whose codes were unpacked), checked as a file is.
     *
     * @param source   names the tensors' origin in messages (a file)
     * @param metadata checkpoint metadata: model config and reparameterisation
     * @param tensors  the tensors by checkpoint name; the model's are copied, the rest become the extras
     * @return the rebuilt model with this metadata and the extra tensors
     * @throws InvalidInputException when the metadata describes no valid model or the tensors do not fit it
     */
    public static Loaded load(String source, Map<String, String> metadata, Map<String, Tensor> tensors) {
        long stored = 0;
        for (Tensor t : tensors.values()) stored += t.size();
        return load(source, metadata, tensors.keySet(), tensors::get, stored);
    }

    private static Loaded load(String src, Map<String, String> metadata, java.util.Set<String> names,
                               Function<String, Tensor> read, long stored) {
        ModelConfig cfg;
        ShiftAddSpec spec;
        try {
            cfg = ModelConfig.fromMetadata(metadata, src);
            spec = ShiftAddSpec.fromMetadata(metadata, src);
            cfg.requireLoadableFrom(stored, src);
        } catch (ConfigException e) {
            throw new InvalidInputException(src, e.getMessage().replace(src + ": ", ""));
        }
        Model model = cfg.build(0);
        try {
            Reparam.apply(model, spec, src);
        } catch (ConfigException e) {
            throw new InvalidInputException(src, e.getMessage().replace(src + ": ", ""));
        }
        List<String> missing = new ArrayList<>();
        List<String> wrongShape = new ArrayList<>();
        List<String> nonFinite = new ArrayList<>();
        Map<String, Tensor> named = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) named.put(p.name(), p.value());
        Map<String, Tensor> buffers = model.buffers();
        named.putAll(buffers);
        for (Map.Entry<String, Tensor> p : named.entrySet()) {
            if (!names.contains(p.getKey())) {
                missing.add(p.getKey());
                continue;
            }
            Tensor t = read.apply(p.getKey());
            if (!t.sameShape(p.getValue())) {
                wrongShape.add(p.getKey() + " (expected " + java.util.Arrays.toString(p.getValue().shape()) + ", found "
                        + java.util.Arrays.toString(t.shape()) + ")");
                continue;
            }
            System.arraycopy(t.data(), 0, p.getValue().data(), 0, t.size());
            int bad = firstNonFinite(t.data());
            if (bad >= 0) nonFinite.add(p.getKey() + " (" + t.data()[bad] + " at index " + bad + ")");
        }
        if (!missing.isEmpty() || !wrongShape.isEmpty()) {
            StringBuilder sb = new StringBuilder("checkpoint does not fit model " + cfg.name());
            if (!missing.isEmpty()) sb.append("; missing tensors: ").append(String.join(", ", missing));
            if (!wrongShape.isEmpty()) sb.append("; shape mismatches: ").append(String.join(", ", wrongShape));
            throw new InvalidInputException(src, sb.toString());
        }
        if (!nonFinite.isEmpty()) {
            throw new InvalidInputException(src, "NaN or infinite values in " + String.join(", ", nonFinite));
        }
        // The buffers were copied into the live state; marked trained, the hashes run and trainHashes leaves them.
        for (var a : Reparam.addAttentions(model)) if (a.hash() != null) a.hash().setTrained(true);
        Map<String, Tensor> extras = new LinkedHashMap<>();
        for (String name : names) {
            if (!named.containsKey(name)) extras.put(name, read.apply(name));
        }
        return new Loaded(model, metadata, extras);
    }

    private static int firstNonFinite(float[] d) {
        for (int i = 0; i < d.length; i++) if (!Float.isFinite(d[i])) return i;
        return -1;
    }
}
