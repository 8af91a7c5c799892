package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `import` on the core module's fixtures (core/src/test/resources/import, see scripts/make_import_fixtures.py). */
class ImportCommandTest extends ConsoleCapture {
    private static final Path FIXTURES = Path.of("..", "core", "src", "test", "resources", "import");

    @TempDir
    Path tmp;

    @Test
    void importsAHuggingFaceFolderWithItsConfig() {
        Path target = tmp.resolve("pvt.safetensors");
        int code = Main.run("import", "--from", FIXTURES.resolve("pvt_hf").toString(), "--out", target.toString());
        String stdout = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertTrue(stdout.contains("hf naming"), stdout);
        assertTrue(stdout.contains("stages.0.blocks.0.attn.kv.weight [32, 16] <- pvt_v2.encoder.layers.0.blocks.0.attention.key.weight"
                + " + pvt_v2.encoder.layers.0.blocks.0.attention.value.weight"), stdout);
        Checkpoints.Loaded loaded = Checkpoints.load(target);
        assertEquals("pvt_v2", loaded.metadata().get("arch"));
        assertEquals("hf", loaded.metadata().get("import.naming"));
    }

    @Test
    void mismatchExitsTwoListingEveryProblem() {
        Path target = tmp.resolve("bad.safetensors");
        int code = Main.run("import", "--from", FIXTURES.resolve("vit_torchvision.pth").toString(), "--naming", "timm",
                "--model", FIXTURES.resolve("vit_torchvision.config.json").toString(), "--out", target.toString());
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, stderr);
        assertTrue(stderr.contains("missing: patch_embed.proj.weight"), stderr);
        assertTrue(stderr.contains("unexpected: class_token"), stderr);
        assertFalse(Files.exists(target));
    }

    @Test
    void foreignConfigJsonBesideTheWeightsExitsTwoWithOneLineSayingHowToNameTheConfig() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("repo"));
        Files.copy(FIXTURES.resolve("vit_torchvision.pth"), folder.resolve("pytorch_model.bin"));
        Files.writeString(folder.resolve("config.json"), "{\"dim\": 16, \"layers\": 2}");
        Path target = tmp.resolve("out.safetensors");
        int code = Main.run("import", "--from", folder.toString(), "--out", target.toString());
        String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, stderr);
        assertEquals(1, stderr.lines().count(), stderr);
        assertTrue(stderr.contains("config.json") && stderr.contains("\"model_type\"")
                && stderr.contains("--model NAME") && stderr.contains("--model FILE.json"), stderr);
        assertFalse(Files.exists(target));
    }

    @Test
    void metadataFileWithJsonListsImports() throws Exception {
        String flat = Files.readString(FIXTURES.resolve("vit_torchvision.config.json"))
                .replace("\"0.485,0.456,0.406\"", "[0.485, 0.456, 0.406]")
                .replace("\"0.229,0.224,0.225\"", "[0.229, 0.224, 0.225]").replace("\"32\"", "32");
        assertTrue(flat.contains("[0.485, 0.456, 0.406]") && flat.contains("[0.229, 0.224, 0.225]"), flat);
        Path json = tmp.resolve("lists.json");
        Files.writeString(json, flat);
        Path target = tmp.resolve("lists.safetensors");
        int code = Main.run("import", "--from", FIXTURES.resolve("vit_torchvision.pth").toString(), "--model",
                json.toString(), "--out", target.toString());
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        assertEquals("0.485,0.456,0.406", Checkpoints.load(target).metadata().get("mean"));
    }
}
