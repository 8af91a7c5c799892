package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.ShardedSafetensors;
import dev.shiftaddvit.io.torch.TorchCheckpoint;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where imported weights and hyper-parameters come from: a weights file (safetensors, a sharded
 * safetensors index, or a torch.save zip) or a Hugging Face model folder, and a config that is our
 * named config, our flat metadata as a JSON file, or the Hugging Face {@code config.json} beside the
 * weights (with {@code preprocessor_config.json} for the normalisation, when present).
 */
public final class ImportSource {
    /** File names a model folder is searched for, in order (Hugging Face's own preference). */
    private static final List<String> FOLDER_FILES = List.of("model.safetensors", "model.safetensors.index.json",
            "pytorch_model.bin");
    private static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};
    private static final long MAX_CONFIG_BYTES = 10_000_000;

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
     * else the Hugging Face config.json beside {@code weights}.
     */
    public static ModelConfig config(String model, Path weights) {
        if (model != null && model.endsWith(".json")) return fromMetadataFile(Path.of(model));
        if (model != null) return Configs.byName(model);
        Path dir = weights.toAbsolutePath().getParent();
        Path hf = dir.resolve("config.json");
        if (!Files.isRegularFile(hf)) {
            throw new ConfigException(weights + ": no config.json beside the weights; name a config with --model");
        }
        return fromHuggingFace(hf);
    }

    private static Map<String, Object> readJson(Path file) {
        try {
            if (Files.size(file) > MAX_CONFIG_BYTES) throw new InvalidInputException(file.toString(), "config larger than 10 MB");
            return Json.parseObject(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new InvalidInputException(file.toString(), "cannot read: " + e, e);
        }
    }

    /** Our flat metadata ({@link ModelConfig#toMetadata()}) as a JSON object; numbers may be unquoted. */
    static ModelConfig fromMetadataFile(Path file) {
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : readJson(file).entrySet()) {
            Object v = e.getValue();
            meta.put(e.getKey(), v instanceof String s ? s : Json.write(v));
        }
        return ModelConfig.fromMetadata(meta, file.toString());
    }

    /** A Hugging Face ViT or PVTv2 config.json (a DeiT one reads as ViT; its distillation token is refused on import). */
    static ModelConfig fromHuggingFace(Path file) {
        String src = file.toString();
        Map<String, Object> c = readJson(file);
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
                yield new VitConfig(name, imageSize(c, src), Json.getInt(c, "patch_size", src), channels,
                        classes, hidden, Json.getInt(c, "num_hidden_layers", src), Json.getInt(c, "num_attention_heads", src),
                        (double) Json.getInt(c, "intermediate_size", src) / hidden, Json.optBoolean(c, "qkv_bias", true, src),
                        true, (float) Json.optDouble(c, "layer_norm_eps", 1e-12, src),
                        floats(pre, "image_mean", new float[] {0.5f, 0.5f, 0.5f}, src), floats(pre, "image_std",
                        new float[] {0.5f, 0.5f, 0.5f}, src));
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
                yield new PvtV2Config(name, imageSize(c, src), channels, classes,
                        ints(c, "hidden_sizes", src), ints(c, "num_attention_heads", src), ints(c, "mlp_ratios", src),
                        ints(c, "sr_ratios", src), ints(c, "depths", src), patch[0], strides[0],
                        Json.optBoolean(c, "qkv_bias", true, src), floats(pre, "image_mean", IMAGENET_MEAN, src),
                        floats(pre, "image_std", IMAGENET_STD, src));
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
