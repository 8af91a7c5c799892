package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.shiftaddvit.model.convert.ImportParityTest.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints without a config get the heads of the named config whose structure their shapes show. */
class ConfigInferenceTest {
    private static final Path FILE = Path.of("/nowhere/weights.pth");

    /** A model's tensors under a foreign naming (each of our parameters maps to one foreign tensor here). */
    private static Map<String, Tensor> stateDict(Model m, Naming naming) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Parameter p : m.parameters()) {
            List<String> sources = naming.sources(p.name(), m.config());
            assertEquals(1, sources.size(), p.name());
            out.put(sources.getFirst(), p.value());
        }
        return out;
    }

    private static ModelConfig infer(ModelConfig built, Naming naming) {
        Map<String, Tensor> tensors = stateDict(built.build(0), naming);
        assertEquals(naming, Naming.detect(tensors.keySet()));
        return ImportSource.config(null, FILE, tensors, naming);
    }

    @Test
    void timmDeitTinyAndSmallGetThreeAndSixHeads() {
        VitConfig tiny = (VitConfig) infer(Configs.byName("deit_tiny"), Naming.TIMM);
        assertEquals("deit_tiny", tiny.name());
        assertEquals(3, tiny.heads());
        assertEquals(Configs.byName("deit_tiny").toMetadata(), tiny.toMetadata());
        assertEquals(6, ((VitConfig) infer(Configs.byName("deit_small"), Naming.TIMM)).heads());
    }

    @Test
    void torchvisionFineTunedDeitKeepsItsClassesAndImageSizeAndImportsWithTheInferredHeads() {
        VitConfig fineTuned = VitConfig.builder("ft").imgSize(64).patchSize(16).inChans(3).numClasses(10)
                .embedDim(192).depth(12).heads(1).mlpRatio(4.0).qkvBias(true).classToken(true).eps(1e-6f)
                .mean(0.5f, 0.5f, 0.5f).std(0.5f, 0.5f, 0.5f).build();
        Model m = fineTuned.build(1);
        Map<String, Tensor> tensors = stateDict(m, Naming.TORCHVISION);
        VitConfig c = (VitConfig) ImportSource.config(null, FILE, tensors, Naming.detect(tensors.keySet()));
        assertEquals(3, c.heads(), "heads from deit_tiny, whatever the weights were trained with");
        assertEquals(10, c.numClasses());
        assertEquals(64, c.imgSize(), "4×4 position grid × patch 16");
        Importer.Imported imported = Importer.load(c, tensors, Naming.TORCHVISION, FILE.toString());
        assertEquals(m.parameterCount(), imported.model().parameterCount());
    }

    @Test
    void pvtV2InTimmAndOfficialNamingsTellB0FromItsFullAttentionVariant() {
        PvtV2Config b0 = (PvtV2Config) infer(Configs.byName("pvt_v2_b0"), Naming.PVT);
        assertEquals("pvt_v2_b0", b0.name());
        assertArrayEquals(new int[]{1, 2, 5, 8}, b0.heads());
        assertEquals(Configs.byName("pvt_v2_b0").toMetadata(), b0.toMetadata());
        assertEquals("pvt_v2_b0_msa", infer(Configs.byName("pvt_v2_b0_msa"), Naming.TIMM).name());
        assertEquals("pvt_v2_b2", infer(Configs.byName("pvt_v2_b2"), Naming.TIMM).name());
    }

    @Test
    void officialPvtV1TinyIsRecognised() {
        PvtV1Config c = (PvtV1Config) infer(Configs.byName("pvt_v1_tiny"), Naming.PVT);
        assertEquals(Configs.byName("pvt_v1_tiny").toMetadata(), c.toMetadata());
    }

    @Test
    void unmatchedShapesNameTheFileAndTheFlag() {
        Path file = fixture("deit_timm.pth");
        ConfigException e = assertThrows(ConfigException.class, () -> ImportSource.config(null, file));
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString()), m);
        assertTrue(m.contains("ViT: dim 16, depth 2, patch 8") && m.contains("match no named config"), m);
        assertTrue(m.contains("head count is unknown") && m.contains("--model"), m);
    }

    @Test
    void unrecognisedLayoutNamesTheFileAndTheFlag() {
        Map<String, Tensor> tensors = Map.of("encoder.weight", Tensor.zeros(2, 2));
        ConfigException e = assertThrows(ConfigException.class,
                () -> ImportSource.config(null, FILE, tensors, Naming.TIMM));
        assertTrue(e.getMessage().startsWith(FILE.toString()) && e.getMessage().contains("--model"), e.getMessage());
    }

    @Test
    void timmHubConfigJsonPicksTheArchitectureAndItsPretrainedCfg(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"architecture": "deit_small_patch16_224", "num_classes": 10, "num_features": 384,
                 "global_pool": "token",
                 "pretrained_cfg": {"input_size": [3, 224, 224], "interpolation": "bicubic", "crop_pct": 0.9,
                                    "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "num_classes": 10}}
                """);
        // The weights are not read: config.json says everything.
        VitConfig c = (VitConfig) ImportSource.config(null, dir.resolve("model.safetensors"));
        assertEquals(6, c.heads());
        assertEquals(384, c.embedDim());
        assertEquals(10, c.numClasses());
        assertArrayEquals(new float[]{0.5f, 0.5f, 0.5f}, c.mean());
    }

    @Test
    void timmConfigJsonWithAnUnknownArchitectureNamesTheFileAndTheFlag(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("config.json");
        Files.writeString(json, "{\"architecture\": \"convnext_tiny\", \"num_classes\": 1000}");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ImportSource.config(null, dir.resolve("model.safetensors")));
        assertTrue(e.getMessage().startsWith(json.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("convnext_tiny") && e.getMessage().contains("--model"), e.getMessage());
    }
}
