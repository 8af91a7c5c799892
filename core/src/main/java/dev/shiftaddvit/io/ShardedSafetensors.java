package dev.shiftaddvit.io;

import dev.shiftaddvit.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint split over several safetensors files by an index ({@code *.safetensors.index.json},
 * as Hugging Face writes it): {@code {"metadata": {...}, "weight_map": {tensor: shard file}}}. Each
 * shard is memory-mapped and validated like a single file; shard names must be plain file names
 * beside the index (no directories, so an index cannot point outside its folder).
 */
public final class ShardedSafetensors {
    private static final long MAX_INDEX_BYTES = 100_000_000L;

    private ShardedSafetensors() {
    }

    /**
     * Every tensor the index lists, as float, in index order. Tensors missing from their shard are
     * reported together; tensors a shard holds but the index does not list are ignored, as the
     * reference loader does.
     */
    public static LinkedHashMap<String, Tensor> read(Path index) {
        String source = index.toString();
        Map<String, Object> root;
        try {
            if (!Files.isRegularFile(index)) throw new InvalidInputException(source, "file not found");
            if (Files.size(index) > MAX_INDEX_BYTES) throw new InvalidInputException(source, "index larger than 100 MB");
            root = Json.parseObject(Files.readString(index), source);
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        }
        Map<String, Object> weightMap = Json.getObject(root, "weight_map", source);
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : weightMap.entrySet()) {
            String shard = Json.asString(e.getValue(), "weight_map[\"" + e.getKey() + "\"]", source);
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..") || shard.equals(".")) {
                throw new InvalidInputException(source, "shard name \"" + shard + "\" is not a plain file name");
            }
            byShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, Tensor> loaded = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, List<String>> shard : byShard.entrySet()) {
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(shard.getKey()))) {
                for (String name : shard.getValue()) {
                    if (f.contains(name)) loaded.put(name, f.tensor(name));
                    else missing.add(name + " (in " + shard.getKey() + ")");
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(source, "tensors listed in the index but absent from their shard: "
                    + String.join(", ", missing));
        }
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (String name : weightMap.keySet()) out.put(name, loaded.get(name));
        return out;
    }
}
