package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.shiftaddvit.model.convert.ImportParityTest.fixture;
import static dev.shiftaddvit.model.convert.ImportParityTest.nhwc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An official-layout PVTv1 checkpoint (scripts/make_import_fixtures.py: torch.save of a bare state dict
 * in whai362/PVT's names, written by an independent PyTorch PVTv1 that loads strictly into, and gives the
 * logits of, the official classification/pvt.py within 6e-7) against the reference's logits: image 32,
 * four stages of dims 8/16/16/16, sr 2/2/1/1, 1/1/1/2 blocks, 10 classes, random unit-scale weights.
 *
 * <p>Tolerance as {@link ImportParityTest}: every logit within 1e-4 of the reference, relative to the
 * largest reference logit. Measured when written: 3.7e-7 at 32 px, 2.7e-7 at 48 px; resizing with
 * align_corners=True instead would miss by 1.8e-2, nearest-neighbour by 0.18.
 */
class PvtV1ImportTest {
    private static final Path WEIGHTS = fixture("pvt_v1_official.pth");

    private static void assertLogits(float[] want, float[] got) {
        float scale = 0;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        assertTrue(scale > 1e-3, "reference logits should not be degenerate");
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-4 * scale,
                    "logit " + i + ": " + got[i] + " vs reference " + want[i] + " (scale " + scale + ")");
        }
    }

    @Test
    void officialCheckpointLoadsUnderItsOwnNamesAndMatchesTheReference() {
        Map<String, Tensor> tensors = ImportSource.readTensors(WEIGHTS);
        assertEquals(Naming.PVT, Naming.detect(tensors.keySet()));
        ModelConfig cfg = ImportSource.config(fixture("pvt_v1_official.config.json").toString(), WEIGHTS);
        Importer.Imported imported = Importer.load(cfg, tensors, Naming.PVT, WEIGHTS.toString());
        assertEquals(tensors.size(), imported.mapped().size(), "every tensor maps to the parameter of its own name");
        Map<String, Tensor> ref = Safetensors.readTensors(fixture("pvt_v1_official.expected.safetensors"));
        assertLogits(ref.get("logits").data(), imported.model().forward(nhwc(ref.get("input")), false).data());
    }

    @Test
    void positionEmbeddingsAreResizedBilinearlyForAnotherImageSize(@TempDir Path dir) throws Exception {
        // The same weights at 48 px: grids 12, 6, 3, 1 instead of 8, 4, 2, 1; the reference interpolates its
        // position embeddings (F.interpolate bilinear, align_corners=False), the importer resizes them once.
        String json = Files.readString(fixture("pvt_v1_official.config.json")).replace("\"32\"", "\"48\"");
        Path cfgFile = dir.resolve("pvt_v1_48.json");
        Files.writeString(cfgFile, json);
        ModelConfig cfg = ImportSource.config(cfgFile.toString(), WEIGHTS);
        assertEquals(48, cfg.imgSize());
        Importer.Imported imported = Importer.load(cfg, ImportSource.readTensors(WEIGHTS), Naming.PVT,
                WEIGHTS.toString());
        assertTrue(imported.mapped().contains("pos_embed1 [1, 144, 8] (resized from a 8×8 grid)"),
                String.join("\n", imported.mapped()));
        assertTrue(imported.mapped().contains("pos_embed4 [1, 2, 16]"), "1×1 stays as it is, class row included");
        Map<String, Tensor> ref = Safetensors.readTensors(fixture("pvt_v1_official.expected.safetensors"));
        assertLogits(ref.get("logits_48").data(), imported.model().forward(nhwc(ref.get("input_48")), false).data());
    }

    @Test
    void resizeKeepsTheClassRowAndReproducesAConstantGrid() {
        // [1, 1 + 2·2, 1]: class row 7, grid values 1, 2, 3, 4 → 4×4; corners are clamped copies.
        Tensor from = Tensor.of(new float[]{7, 1, 2, 3, 4}, 1, 5, 1);
        Tensor out = PositionResize.resize(from, Tensor.zeros(1, 17, 1), 1);
        float[] o = out.data();
        assertEquals(7f, o[0]);
        assertEquals(1f, o[1]);
        assertEquals(4f, o[16]);
        // Row 0, column 1 samples x = 0.25 between 1 and 2.
        assertEquals(1.25f, o[2], 1e-6f);
        assertTrue(PositionResize.resize(Tensor.zeros(1, 6, 1), Tensor.zeros(1, 17, 1), 1) == null,
                "5 grid rows are not a square");
    }

    @Test
    void aMismatchedPositionEmbeddingWidthIsStillAShapeError() {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>(ImportSource.readTensors(WEIGHTS));
        tensors.put("pos_embed2", Tensor.zeros(1, 16, 17));
        ModelConfig cfg = ImportSource.config(fixture("pvt_v1_official.config.json").toString(), WEIGHTS);
        var e = assertThrows(dev.shiftaddvit.io.InvalidInputException.class,
                () -> Importer.load(cfg, tensors, Naming.PVT, WEIGHTS.toString()));
        assertTrue(e.getMessage().contains("pos_embed2 [1, 16, 17] for pos_embed2 [1, 16, 16]"), e.getMessage());
    }

    @Test
    void fixtureShapesMatchNoNamedConfigSoTheErrorAsksForModel() {
        ConfigException e = assertThrows(ConfigException.class, () -> ImportSource.config(null, WEIGHTS));
        String m = e.getMessage();
        assertTrue(m.startsWith(WEIGHTS.toString()), m);
        assertTrue(m.contains("PVTv1: dims [8, 16, 16, 16]") && m.contains("match no named config"), m);
        assertTrue(m.contains("--model"), m);
        assertTrue(ImportSource.config(fixture("pvt_v1_official.config.json").toString(), WEIGHTS)
                instanceof PvtV1Config);
    }
}
