package dev.shiftaddvit.io;

import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ShardedSafetensorsTest {
    @TempDir
    Path tmp;

    private void shard(String name, String tensor, float value) throws Exception {
        LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
        m.put(tensor, Tensor.of(new float[] {value, value}, 2));
        Safetensors.write(tmp.resolve(name), m, null);
    }

    private Path index(String weightMap) throws Exception {
        Path p = tmp.resolve("model.safetensors.index.json");
        Files.writeString(p, "{\"metadata\": {\"total_size\": 16}, \"weight_map\": " + weightMap + "}");
        return p;
    }

    @Test
    void readsEveryShardInIndexOrder() throws Exception {
        shard("a.safetensors", "x", 1f);
        shard("b.safetensors", "y", 2f);
        Map<String, Tensor> t = ShardedSafetensors.read(index("{\"y\": \"b.safetensors\", \"x\": \"a.safetensors\"}"));
        assertEquals(List.of("y", "x"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {1f, 1f}, t.get("x").data());
    }

    @Test
    void reportsEveryListedTensorMissingFromItsShard() throws Exception {
        shard("a.safetensors", "x", 1f);
        Path idx = index("{\"x\": \"a.safetensors\", \"p\": \"a.safetensors\", \"q\": \"a.safetensors\"}");
        assertInvalid(idx, "absent from their shard: p (in a.safetensors), q (in a.safetensors)", () -> ShardedSafetensors.read(idx));
    }

    @Test
    void refusesShardPathsOutsideTheFolder() throws Exception {
        Path idx = index("{\"x\": \"../a.safetensors\"}");
        assertInvalid(idx, "is not a plain file name", () -> ShardedSafetensors.read(idx));
        Path missing = index("{\"x\": \"nowhere.safetensors\"}");
        assertInvalid(tmp.resolve("nowhere.safetensors").toString(), "file not found", () -> ShardedSafetensors.read(missing));
    }
}
