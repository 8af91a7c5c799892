package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.Idx;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad flags and unwritable outputs end in exit 2 and one line naming the flag or file, before any work. */
class RefusalTest extends ConsoleCapture {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--limit, -5",
            "--eval-limit, -3",
            "--threads, 100000",
            "--threads, 2000",
            "--warmup, NaN",
            "--clip, NaN",
            "--weight-decay, NaN",
            "--lr, Infinity",
            "--epochs, 0",
            "--batch-size, -1",
    })
    void trainRefusesAnOutOfRangeFlagNamingIt(String flag, String value, @TempDir Path dir) {
        int code = Main.run("train", "--model", "vit_fmnist", flag, value, "--out",
                dir.resolve("m.safetensors").toString());
        assertOneLineRefusal(code, flag);
        assertNoFilesIn(dir);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--distill, soft-ish",
            "--distill-temperature, 0",
            "--distill-temperature, NaN",
            "--distill-weight, 1.5",
            "--block-match, -1",
    })
    void finetuneRefusesAnOutOfRangeDistillationFlagNamingIt(String flag, String value, @TempDir Path dir)
            throws Exception {
        Path model = tinyModel(dir);
        Path out = dir.resolve("out.safetensors");
        int code = Main.run("finetune", "--model", model.toString(), "--teacher", model.toString(), flag, value,
                "--out", out.toString());
        assertOneLineRefusal(code, flag);
        assertFalse(Files.exists(out));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--max-batch, 0",
            "--max-delay-ms, -1",
            "--max-delay-ms, NaN",
            "--queue, 0",
            "--port, 70000",
            "--max-body-bytes, 0",
    })
    void serveRefusesAnOutOfRangeFlagNamingIt(String flag, String value, @TempDir Path dir) throws Exception {
        assertOneLineRefusal(Main.run("serve", "--model", tinyModel(dir).toString(), flag, value), flag);
    }

    @Test
    void finetuneRefusesDistillationFlagsWithoutATeacher(@TempDir Path dir) throws Exception {
        Path model = tinyModel(dir);
        int code = Main.run("finetune", "--model", model.toString(), "--distill", "hard", "--out",
                dir.resolve("out.safetensors").toString());
        assertOneLineRefusal(code, "--teacher");
    }

    @Test
    void trainRefusesAnOutputUnderAMissingDirectoryBeforeTraining(@TempDir Path dir) {
        Path out = dir.resolve("missing/m.safetensors");
        int code = Main.run("train", "--model", "vit_fmnist", "--epochs", "50", "--out", out.toString());
        assertOneLineRefusal(code, out.toString());
        assertTrue(stderr().contains("does not exist"), stderr());
    }

    @Test
    void trainRefusesAnOutputWhereNoFileMayBeCreated() {
        // sysfs refuses new files even to root, as a read-only or foreign-owned directory would.
        Path out = Path.of("/sys/shiftaddvit-m.safetensors");
        Assumptions.assumeTrue(Files.isDirectory(out.getParent()) && !Files.exists(out), "no sysfs here");
        int code = Main.run("train", "--model", "vit_fmnist", "--epochs", "50", "--out", out.toString());
        assertOneLineRefusal(code, out.toString());
        assertTrue(!Files.exists(out));
    }

    @Test
    void trainRefusesAnOutputThatIsADirectory(@TempDir Path dir) throws IOException {
        Path out = Files.createDirectory(dir.resolve("m.safetensors"));
        int code = Main.run("train", "--model", "vit_fmnist", "--out", out.toString());
        assertOneLineRefusal(code, out.toString());
        assertTrue(stderr().contains("is a directory"), stderr());
    }

    @Test
    void exportAndDeployRefuseAnOutputUnderAFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        Path out = file.resolve("m.onnx");
        assertOneLineRefusal(Main.run("export", "--model", "vit_fmnist", "--out", out.toString()), out.toString());
        err.reset();
        Path model = tinyModel(dir);
        Path dep = file.resolve("d.safetensors");
        assertOneLineRefusal(Main.run("deploy", "--model", model.toString(), "--out", dep.toString()), dep.toString());
    }

    @Test
    void pipelineRefusesAWorkingDirectoryThatIsAFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("runs"), "x");
        assertOneLineRefusal(Main.run("pipeline", "--dir", file.toString()), file.toString());
    }

    @Test
    void trainWithALimitRefusesAGzipBombInTheDataDirectoryNamingIt(@TempDir Path dir) throws IOException {
        // 2.7 million 28x28 images declared (2.1 GB) over 16 MB of zeros: a few kB on disk.
        Path images = dir.resolve("train-images-idx3-ubyte.gz");
        try (DataOutputStream d = new DataOutputStream(new GZIPOutputStream(Files.newOutputStream(images)))) {
            for (int v : new int[] {0x803, 2_700_000, 28, 28}) d.writeInt(v);
            byte[] zeros = new byte[1 << 16];
            for (int i = 0; i < 256; i++) d.write(zeros);
        }
        Idx.write(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {64}, new byte[64], true);
        Path out = dir.resolve("m.safetensors");
        int code = Main.run("train", "--model", "vit_fmnist", "--data", dir.toString(), "--limit", "64", "--out",
                out.toString());
        assertOneLineRefusal(code, images.toString());
        assertFalse(Files.exists(out));
    }

    @Test
    void anUnknownFlagIsOneLineThatPointsAtHelp() {
        assertOneLineRefusal(Main.run("eval", "--eval-limit", "3"), "--eval-limit");
        assertTrue(stderr().contains("shiftaddvit eval --help"), stderr());
    }

    @Test
    void aModelFileWhoseImageSizeOutgrowsTheHeapIsRefusedByInfoAndPredict(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("hostile.safetensors");
        Checkpoints.save(file, tiny(), null, Map.of("img_size", "16384"));   // the last metadata wins
        assertOneLineRefusal(Main.run("info", "--model", file.toString()), file.toString());
        err.reset();
        assertOneLineRefusal(Main.run("predict", "--model", file.toString(), "--index", "0"), file.toString());
    }

    @Test
    void aBatchTheHeapCannotHoldIsRefusedNamingTheFlag() {
        assertOneLineRefusal(Main.run("bench", "--model", "deit_small", "--batch-size", "100000"),
                "--batch-size 100000");
    }

    @Test
    void anImportWhoseConfigDescribesAFarLargerModelThanItsWeightsIsRefused(@TempDir Path dir) throws Exception {
        Path folder = Files.createDirectory(dir.resolve("huge-vit"));
        Files.writeString(folder.resolve("config.json"), """
                {"model_type": "vit", "hidden_size": 16384, "num_hidden_layers": 64, "num_attention_heads": 64,
                 "intermediate_size": 65536, "image_size": 224, "patch_size": 16}""");
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("vit.embeddings.cls_token", Tensor.zeros(1, 1, 4));
        Safetensors.write(folder.resolve("model.safetensors"), tensors, Map.of());
        Path out = dir.resolve("m.safetensors");
        assertOneLineRefusal(Main.run("import", "--from", folder.toString(), "--out", out.toString()),
                "model.safetensors");
        assertTrue(stderr().contains("at least"), stderr());
        assertTrue(!Files.exists(out));
    }

    private void assertOneLineRefusal(int code, String named) {
        String e = stderr().strip();
        assertEquals(2, code, e);
        assertEquals(1, e.lines().count(), "one line, no trace: " + e);
        assertTrue(e.startsWith("error: ") && e.contains(named), e);
    }

    private static void assertNoFilesIn(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "nothing written to " + dir);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
