package dev.shiftaddvit.checkpoint;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.ForwardFootprint;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.model.convert.Importer;
import dev.shiftaddvit.model.convert.Naming;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Metadata that sizes allocations is checked against the file and the heap before anything is built. */
class HostileMetadataTest {
    @Test
    void anImageSizeWhoseActivationsPassJavaArraysIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path file = withMetadata(dir, "img_size", "16384");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        assertTrue(e.getMessage().startsWith(file + ": one forward of model pvt_v2_fmnist at 16384×16384 px")
                && e.getMessage().contains("2^31"), e.getMessage());
    }

    @Test
    void anImageSizeWhoseForwardOutgrowsTheHeapIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path file = withMetadata(dir, "img_size", "4096");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        assertTrue(e.getMessage().startsWith(file + ": one forward of model pvt_v2_fmnist at 4096×4096 px"),
                e.getMessage());
    }

    @Test
    void aBatchTheHeapCannotHoldIsRefusedNamingWhatAskedForIt() {
        ModelConfig c = Configs.byName("deit_tiny");
        long perImage = c.footprint().floatsPerImage() * 4;
        int tooMany = (int) Math.min(Integer.MAX_VALUE, Runtime.getRuntime().maxMemory() / perImage + 1);
        ConfigException e = assertThrows(ConfigException.class, () -> ForwardFootprint.require(c, tooMany, "--batch-size"));
        assertTrue(e.getMessage().startsWith("--batch-size: one forward of model deit_tiny"), e.getMessage());
        assertDoesNotThrow(() -> ForwardFootprint.require(c, 32, "--batch-size"));
    }

    @Test
    void everyRegisteredModelFitsAtBatchOneAndTiledAttentionHoldsNoScoreMatrix() {
        for (String name : Configs.names()) ForwardFootprint.require(Configs.byName(name), 1, name);
        ModelConfig msa = ((PvtV2Config) Configs.byName("pvt_v2_b0_msa")).toBuilder().imgSize(512).build();
        assertTrue(msa.footprint().largestArrayPerImage() < 16384L * 16384,
                "at inference the tiled attention never holds a head's 16,384 x 16,384 scores");
        assertDoesNotThrow(() -> ForwardFootprint.require(msa, 1, "pvt_v2_b0_msa at 512 px"));
    }

    @Test
    void aForwardWhoseActivationsPassTheHeapOrJavaArraysIsRefusedBeforeAllocating() {
        ModelConfig big = ((PvtV2Config) Configs.byName("pvt_v2_fmnist")).toBuilder().imgSize(4096).build();
        Model m = big.build(0);
        ConfigException e = assertThrows(ConfigException.class, () -> m.forward(Tensor.zeros(1, 4096, 4096, 1), false));
        assertTrue(e.getMessage().startsWith("images Tensor") && e.getMessage().contains("the heap holds"),
                e.getMessage());
        ModelConfig huge = ((PvtV2Config) Configs.byName("pvt_v2_fmnist")).toBuilder().imgSize(16384).build();
        e = assertThrows(ConfigException.class, () -> ForwardFootprint.require(huge, 1, "images"));
        assertTrue(e.getMessage().contains("more than Java arrays hold"), e.getMessage());
    }

    @Test
    void anImportedConfigFarLargerThanTheWeightsIsRefusedBeforeBuilding() {
        ModelConfig huge = ((VitConfig) Configs.byName("deit_tiny")).toBuilder().embedDim(16384).heads(64).depth(64)
                .build();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("head.weight", Tensor.zeros(2, 2));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Importer.load(huge, tensors, Naming.TIMM, "weights.safetensors"));
        assertTrue(e.getMessage().startsWith("weights.safetensors: describes model deit_tiny with at least"),
                e.getMessage());
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({"std, 0", "std, -0.3", "mean, NaN", "std, Infinity"})
    void aNormalisationThatWouldTurnPixelsIntoNaNIsRefusedNamingTheFile(String key, String value, @TempDir Path dir)
            throws Exception {
        Path file = withMetadata(dir, key, value);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains("std"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({"shiftadd.attn.anchors, 100000000", "shiftadd.attn.taps, 1000000001"})
    void hashAndConvSizesFarPastThePublishedOnesAreRefusedBeforeAllocating(String key, String value, @TempDir Path dir)
            throws Exception {
        Model m = Configs.byName("pvt_v2_fmnist").build(0);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(1));
        Reparam.trainHashes(m, Tensor.zeros(2, 28, 28, 1));
        Path file = withMetadata(dir, m, key, value);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains(value), e.getMessage());
    }

    @Test
    void aWeightThatIsNaNIsRefusedNamingTheTensor(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("pvt_v2_fmnist").build(0);
        m.parameters().get(3).value().data()[5] = Float.NaN;
        Path file = dir.resolve("nan.safetensors");
        Checkpoints.save(file, m, null, Map.of());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Checkpoints.load(file));
        assertTrue(e.getMessage().contains(m.parameters().get(3).name() + " (NaN at index 5)"), e.getMessage());
    }

    /** The default model saved with one metadata field replaced. */
    private static Path withMetadata(Path dir, String key, String value) throws Exception {
        return withMetadata(dir, Configs.byName("pvt_v2_fmnist").build(0), key, value);
    }

    /** The model saved with one metadata field replaced ({@link Checkpoints#save} writes the given entries last). */
    private static Path withMetadata(Path dir, Model m, String key, String value) throws Exception {
        Path file = dir.resolve("hostile.safetensors");
        Checkpoints.save(file, m, null, Map.of(key, value));
        return file;
    }
}
