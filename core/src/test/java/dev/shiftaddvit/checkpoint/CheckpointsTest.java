package dev.shiftaddvit.checkpoint;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointsTest {
    @Test
    void savedModelLoadsWithIdenticalWeights(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("pvt_v2_fmnist").build(4);
        Path file = dir.resolve("m.safetensors");
        Checkpoints.save(file, m, null, java.util.Map.of());
        Model back = Checkpoints.load(file).model();
        for (Parameter p : m.parameters()) {
            assertArrayEquals(p.value().data(), back.namedParameters().get(p.name()).value().data(), 0f, p.name());
        }
    }

    @Test
    void missingAndMisshapenTensorsAreAllReportedByName(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("vit_fmnist").build(1);
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : m.parameters()) tensors.put(p.name(), p.value());
        tensors.remove("blocks.0.attn.qkv.weight");
        tensors.remove("norm.bias");
        tensors.put("head.weight", Tensor.zeros(10, 95));
        tensors.put("pos_embed", Tensor.zeros(1, 50, 96));
        Path file = dir.resolve("broken.safetensors");
        Safetensors.write(file, tensors, m.config().toMetadata());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        String msg = e.getMessage();
        assertTrue(msg.startsWith(file.toString()), msg);
        for (String name : new String[]{"blocks.0.attn.qkv.weight", "norm.bias", "head.weight", "pos_embed"}) {
            assertTrue(msg.contains(name), name + " not named in: " + msg);
        }
    }
}
