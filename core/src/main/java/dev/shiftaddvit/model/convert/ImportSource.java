package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.ShardedSafetensors;
import dev.shiftaddvit.io.torch.TorchCheckpoint;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.ModelKeys;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where imported weights and hyper-parameters come from: a weights file (safetensors, a sharded
 * safetensors index, or a torch.save zip) or a Hugging Face model folder, and a config that is our
 * named config, our flat metadata as a JSON file, the {@code config.json} beside the weights (Hugging
 * Face's, with {@code preprocessor_config.json} for the normalisation when present, a timm hub
 * repository's, or our flat metadata), or else the named config whose structure the tensors' shapes show.
 */
public final class ImportSource {
    /** File names a model folder is searched for, in order (Hugging Face's own preference). */
    private static final List<String> FOLDER_FILES = List.of("model.safetensors", "model.safetensors.index.json",
            "pytorch_model.bin");
    private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    private static final long MAX_CONFIG_BYTES = 10_000_000;
    /** timm architectures (a timm hub config.json's "architecture") with the named config of the same structure. */
    private static final Map<String, String> TIMM_ARCHITECTURES = Map.of(
            "deit_tiny_patch16_224", "deit_tiny", "vit_tiny_patch16_224", "deit_tiny",
            "deit_small_patch16_224", "deit_small", "vit_small_patch16_224", "deit_small",
            "pvt_v2_b0", "pvt_v2_b0", "pvt_v2_b1", "pvt_v2_b1", "pvt_v2_b2", "pvt_v2_b2");

    private ImportSource() {
    }

    /** The weights file of a file-or-folder argument. */
    public static Path weightsFile(Path from) {
        if (!Files.isDirectory(from)) return from;
        for (String name : FOLDER_FILES) if (Files.isRegularFile(from.resolve(name))) return from.resolve(name);
        try (Stream<Path> files = Files.list(from)) {
            List<Path> candidates = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".safetensors") || n.endsWith(".pth") || n.endsWith(".pt") || n.endsWith(".bin");
            }).toList();
            if (candidates.size() == 1) return candidates.getFirst();
            throw new InvalidInputException(from.toString(), candidates.isEmpty() ? "folder holds no weights file"
                    : "folder holds several weights files; name one: " + candidates);
        } catch (IOException e) {
            throw new InvalidInputException(from.toString(), "cannot list: " + e, e);
        }
    }

    /** Every tensor of a weights file, by its format (from the name, the zip signature decides the rest). */
    public static LinkedHashMap<String, Tensor> readTensors(Path file) {
        String n = file.getFileName().toString();
        if (n.endsWith(".safetensors.index.json")) return ShardedSafetensors.read(file);
        if (n.endsWith(".safetensors")) return Safetensors.readTensors(file);
        return TorchCheckpoint.readStateDict(file);
    }

    /**
     * The config: {@code model} (a name of {@link Configs} or a JSON file of our metadata) when given,
     * else the config.json beside {@code weights} (timm's, Hugging Face's or our metadata: see
     * {@link #fromConfigJson}), else the one named config whose structure the tensors show, in the given naming
     * ({@link ConfigInference}).
     */
    public static ModelConfig config(String model, Path weights, Map<String, Tensor> tensors, Naming naming) {
        return config(model, weights, () -> tensors, naming);
    }

    /** {@link #config(String, Path, Map, Naming)}, reading the tensors (naming detected) only when it must infer. */
    public static ModelConfig config(String model, Path weights) {
        return config(model, weights, () -> readTensors(weights), null);
    }

    private static ModelConfig config(String model, Path weights, Supplier<Map<String, Tensor>> tensors, Naming naming) {
        if (model != null && model.endsWith(".json")) return fromMetadataFile(Path.of(model));
        if (model != null) return Configs.byName(model);
        Path json = weights.toAbsolutePath().getParent().resolve("config.json");
        if (Files.isRegularFile(json)) return fromConfigJson(json);
        Map<String, Tensor> t = tensors.get();
        return ConfigInference.infer(t, naming != null ? naming : Naming.detect(t.keySet()), weights.toString());
    }

    private static Map<String, Object> readJson(Path file) {
        try {
            if (Files.size(file) > MAX_CONFIG_BYTES) throw new InvalidInputException(file.toString(), "config larger than 10 MB");
            return Json.parseObject(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new InvalidInputException(file.toString(), "cannot read: " + e, e);
        }
    }

    /**
     * A config.json beside the weights, told apart by its key: timm's names an "architecture", Hugging
     * Face's a "model_type", ours an "arch"; anything else is refused saying how to name the config.
     */
    private static ModelConfig fromConfigJson(Path json) {
        Map<String, Object> c = readJson(json);
        if (c.containsKey("architecture")) return fromTimm(json, c);
        if (c.containsKey("model_type")) return fromHuggingFace(json, c);
        if (c.containsKey(ModelKeys.ARCH)) return fromMetadata(json, c);
        throw new InvalidInputException(json.toString(), "is not a config this import reads: a Hugging Face "
                + "config.json names a \"model_type\", a timm one an \"architecture\", our flat metadata an \"arch\"; "
                + "name the config with --model NAME (e.g. deit_tiny, pvt_v2_b0) or --model FILE.json (our "
                + "metadata, see the README's \"Importing weights\")");
    }

    /** Our flat metadata ({@link ModelConfig#toMetadata()}) as a JSON object. */
    static ModelConfig fromMetadataFile(Path file) {
        return fromMetadata(file, readJson(file));
    }

    /** Values may be the strings toMetadata writes or plain JSON: numbers, booleans, lists of numbers. */
    private static ModelConfig fromMetadata(Path file, Map<String, Object> json) {
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : json.entrySet()) meta.put(e.getKey(), metadataValue(e.getValue()));
        return ModelConfig.fromMetadata(meta, file.toString());
    }

    /**
     * A JSON value as toMetadata writes it: a list of scalars joined by commas ("0.485,0.456,0.406"),
     * a scalar as its text; anything nested stays JSON, so the field's own check names it.
     */
    private static String metadataValue(Object v) {
        return switch (v) {
            case String s -> s;
            case List<?> l when l.stream().noneMatch(x -> x instanceof List<?> || x instanceof Map<?, ?>) ->
                    l.stream().map(ImportSource::metadataValue).collect(Collectors.joining(","));
            case null, default -> Json.write(v);
        };
    }

    /**
     * A timm hub config.json: {"architecture": "deit_tiny_patch16_224", "num_classes": ..., "pretrained_cfg":
     * {"input_size": [3, H, W], "mean": [...], "std": [...]}}; the architecture picks the named config.
     */
    static ModelConfig fromTimm(Path file, Map<String, Object> c) {
        String src = file.toString();
        String arch = Json.getString(c, "architecture", src);
        String ours = TIMM_ARCHITECTURES.get(arch);
        if (ours == null) {
            throw new ConfigException(src + ": timm architecture \"" + arch + "\" has no named config here (known: "
                    + String.join(", ", new TreeSet<>(TIMM_ARCHITECTURES.keySet()))
                    + "); name the config with --model");
        }
        ModelConfig base = Configs.byName(ours);
        Map<String, Object> pre = c.containsKey("pretrained_cfg") ? Json.getObject(c, "pretrained_cfg", src) : Map.of();
        int classes = (int) Json.optLong(c, "num_classes", base.numClasses(), src);
        int size = base.imgSize();
        int chans = base.inChans();
        if (pre.containsKey("input_size")) {
            int[] chw = ints(pre, "input_size", src);
            if (chw.length != 3 || chw[1] != chw[2]) {
                throw new ConfigException(src + ": pretrained_cfg.input_size must be [C, S, S] (square images)");
            }
            chans = chw[0];
            size = chw[1];
        }
        float[] mean = floats(pre, "mean", base.mean(), src);
        float[] std = floats(pre, "std", base.std(), src);
        return base.toBuilder().name(ours).imgSize(size).inChans(chans).numClasses(classes).mean(mean).std(std)
                .build();
    }

    /** A Hugging Face ViT or PVTv2 config.json (a DeiT one reads as ViT; its distillation token is refused on import). */
    static ModelConfig fromHuggingFace(Path file, Map<String, Object> c) {
        String src = file.toString();
        String type = Json.getString(c, "model_type", src);
        String act = Json.optString(c, "hidden_act", "gelu", src);
        if (!act.equals("gelu")) throw new ConfigException(src + ": hidden_act \"" + act + "\" is not supported (exact gelu only)");
        int classes = c.get("id2label") instanceof Map<?, ?> labels ? labels.size() : (int) Json.optLong(c, "num_labels", 2, src);
        int channels = (int) Json.optLong(c, "num_channels", 3, src);
        Map<String, Object> pre = preprocessor(file);
        String name = file.toAbsolutePath().getParent().getFileName().toString();
        return switch (type) {
            case "vit", "deit" -> {
                int hidden = Json.getInt(c, "hidden_size", src);
                yield VitConfig.builder(name).imgSize(imageSize(c, src)).patchSize(Json.getInt(c, "patch_size", src))
                        .inChans(channels).numClasses(classes).embedDim(hidden)
                        .depth(Json.getInt(c, "num_hidden_layers", src)).heads(Json.getInt(c, "num_attention_heads", src))
                        .mlpRatio((double) Json.getInt(c, "intermediate_size", src) / hidden)
                        .qkvBias(Json.optBoolean(c, "qkv_bias", true, src)).classToken(true)
                        .eps((float) Json.optDouble(c, "layer_norm_eps", 1e-12, src))
                        .mean(floats(pre, "image_mean", new float[] {0.5f, 0.5f, 0.5f}, src))
                        .std(floats(pre, "image_std", new float[] {0.5f, 0.5f, 0.5f}, src)).build();
            }
            case "pvt_v2" -> {
                if (Json.optBoolean(c, "linear_attention", false, src)) {
                    throw new ConfigException(src + ": linear_attention (PVTv2-Li) is not supported");
                }
                int[] patch = ints(c, "patch_sizes", src);
                int[] strides = ints(c, "strides", src);
                for (int s = 1; s < patch.length; s++) {
                    if (patch[s] != 3 || s >= strides.length || strides[s] != 2) {
                        throw new ConfigException(src + ": stages after the first must embed with 3×3 stride 2");
                    }
                }
                yield PvtV2Config.builder(name).imgSize(imageSize(c, src)).inChans(channels).numClasses(classes)
                        .embedDims(ints(c, "hidden_sizes", src)).heads(ints(c, "num_attention_heads", src))
                        .mlpRatios(ints(c, "mlp_ratios", src)).srRatios(ints(c, "sr_ratios", src))
                        .depths(ints(c, "depths", src)).stemKernel(patch[0]).stemStride(strides[0])
                        .qkvBias(Json.optBoolean(c, "qkv_bias", true, src))
                        .mean(floats(pre, "image_mean", IMAGENET_MEAN, src))
                        .std(floats(pre, "image_std", IMAGENET_STD, src)).build();
            }
            default -> throw new ConfigException(src + ": model_type \"" + type + "\" is not supported (vit, deit, pvt_v2)");
        };
    }

    /** An int, or [h, w] with h = w (PVTv2 configs write a pair); our models take square images. */
    private static int imageSize(Map<String, Object> c, String src) {
        if (!(Json.require(c, "image_size", src) instanceof List<?>)) return Json.getInt(c, "image_size", src);
        int[] hw = ints(c, "image_size", src);
        if (hw.length != 2 || hw[0] != hw[1]) throw new ConfigException(src + ": image_size must be square");
        return hw[0];
    }

    private static Map<String, Object> preprocessor(Path config) {
        Path p = config.resolveSibling("preprocessor_config.json");
        return Files.isRegularFile(p) ? readJson(p) : Map.of();
    }

    private static int[] ints(Map<String, Object> c, String key, String src) {
        List<Object> l = Json.getList(c, key, src);
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            double d = Json.asDouble(l.get(i), key, src);
            if (d != Math.rint(d)) throw new ConfigException(src + ": " + key + " must hold whole numbers, found " + d);
            out[i] = (int) d;
        }
        return out;
    }

    private static float[] floats(Map<String, Object> c, String key, float[] fallback, String src) {
        if (!c.containsKey(key)) return fallback;
        List<Object> l = Json.getList(c, key, src);
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) Json.asDouble(l.get(i), key, src);
        return out;
    }
}
