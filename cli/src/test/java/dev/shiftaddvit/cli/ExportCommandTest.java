package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExportCommandTest extends ConsoleCapture {
    @Test
    void exportsANamedConfigAsOnnx(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("vit.onnx");
        assertEquals(0, Main.run("export", "--format", "onnx", "--model", "vit_fmnist", "--out", out.toString()),
                stderr());
        byte[] head = Files.readAllBytes(out);
        // ModelProto field 1 (ir_version) = 8 comes first.
        assertEquals(0x08, head[0]);
        assertEquals(0x08, head[1]);
        assertTrue(stderr().contains("NCHW"), stderr());
    }

    @Test
    void refusesAConvertedModelAndUnknownFormats(@TempDir Path dir) throws Exception {
        Model m = Configs.byName("vit_fmnist").build(1);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
        Path converted = dir.resolve("attn.safetensors");
        Checkpoints.save(converted, m, null, Map.of());
        Path out = dir.resolve("attn.onnx");
        assertEquals(2, Main.run("export", "--model", converted.toString(), "--out", out.toString()));
        assertTrue(stderr().contains("ShiftAddViT-converted"), stderr());
        assertTrue(Files.notExists(out));
        assertEquals(2, Main.run("export", "--format", "tflite", "--model", "vit_fmnist", "--out", out.toString()));
    }
}
