package dev.shiftaddvit.model;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {
    @Test
    void everyNamedConfigRoundTripsThroughMetadata() {
        for (String name : Configs.names()) {
            ModelConfig c = Configs.byName(name);
            assertEquals(c.toMetadata(), ModelConfig.fromMetadata(c.toMetadata(), "test").toMetadata(), name);
        }
    }

    @Test
    void minParametersIsALowerBoundCloseToTheBuiltModel() {
        for (String name : new String[]{"vit_fmnist", "pvt_v2_fmnist", "deit_tiny", "pvt_v2_b0"}) {
            ModelConfig c = Configs.byName(name);
            long actual = c.build(0).parameterCount();
            assertTrue(c.minParameters() <= actual && c.minParameters() > actual * 0.8,
                    name + ": min " + c.minParameters() + " vs actual " + actual);
        }
    }

    @Test
    void pvtV2ConfigsHaveTimmsParameterCounts() {
        // Counted with timm 1.0.29: sum(p.numel() for p in timm.create_model(name).parameters()).
        Map<String, Long> timm = Map.of("pvt_v2_b0", 3_666_760L, "pvt_v2_b1", 14_009_000L, "pvt_v2_b2", 25_362_856L);
        timm.forEach((name, count) -> assertEquals(count, Configs.byName(name).build(0).parameterCount(), name));
    }

    @Test
    void fullAttentionB0IsB0WithoutItsSpatialReductionLayers() {
        // B0 has two blocks in each of stages 1-3 with an sr conv (C·C·sr² + C) and its LayerNorm (2C).
        long sr = 0;
        int[] dims = {32, 64, 160};
        int[] ratios = {8, 4, 2};
        for (int s = 0; s < 3; s++) sr += 2L * ((long) dims[s] * dims[s] * ratios[s] * ratios[s] + 3L * dims[s]);
        assertEquals(3_666_760L - sr, Configs.byName("pvt_v2_b0_msa").build(0).parameterCount());
    }

    @Test
    void metadataDescribingAHugeModelIsRejectedBeforeAllocating(@TempDir Path dir) throws Exception {
        Map<String, String> meta = new LinkedHashMap<>(Configs.byName("deit_tiny").toMetadata());
        meta.put("embed_dim", "65536");
        meta.put("num_heads", "64");
        meta.put("depth", "200");
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("head.weight", Tensor.zeros(4, 4));
        Path file = dir.resolve("hostile.safetensors");
        Safetensors.write(file, tensors, meta);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        assertTrue(e.getMessage().contains("hostile.safetensors") && e.getMessage().contains("holds only 16 values"),
                e.getMessage());
    }

    @Test
    void unknownArchitectureInMetadataIsReportedWithTheFileName(@TempDir Path dir) throws Exception {
        Map<String, String> meta = new LinkedHashMap<>(Configs.byName("vit_fmnist").toMetadata());
        meta.put("arch", "resnet");
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("head.weight", Tensor.zeros(2, 2));
        Path file = dir.resolve("odd.safetensors");
        Safetensors.write(file, tensors, meta);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        assertTrue(e.getMessage().contains("odd.safetensors") && e.getMessage().contains("resnet"), e.getMessage());
    }
}
