package dev.shiftaddvit.cli;

import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.Idx;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest extends ConsoleCapture {
    @Test
    void evalJsonReportsTop1ImagesAndThroughputOnTheSample(@TempDir Path dir) throws Exception {
        int code = Main.run("eval", "--model", tinyModel(dir).toString(), "--sample", "--json");
        assertEquals(0, code, stderr());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        assertEquals(1000L, ((Number) o.get("images")).longValue());
        double top1 = ((Number) o.get("top1")).doubleValue();
        assertTrue(top1 >= 0 && top1 <= 100);
        assertTrue(((Number) o.get("images_per_s")).doubleValue() > 0);
    }

    @Test
    void infoJsonListsLayersWithMacsAndTotalParameters() {
        assertEquals(0, Main.run("info", "--model", "pvt_v2_fmnist", "--json"), stderr());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        assertEquals("pvt_v2_fmnist", o.get("config"));
        assertTrue(((Number) o.get("parameters")).longValue() > 100_000);
        List<?> layers = (List<?>) o.get("layers");
        assertTrue(layers.size() > 20);
        long sum = 0;
        for (Object l : layers) sum += ((Number) ((Map<?, ?>) l).get("macs")).longValue();
        assertEquals(((Number) o.get("macs_per_image")).longValue(), sum);
    }

    @Test
    void deitTinyAndPvtV2B0At224BuildWithTheirPublishedParameterCounts() {
        assertEquals(0, Main.run("info", "--model", "deit_tiny", "--json"), stderr());
        assertEquals(5_717_416L, ((Number) Json.parseObject(stdout().trim(), "o").get("parameters")).longValue());
        out.reset();
        assertEquals(0, Main.run("info", "--model", "pvt_v2_b0", "--json"), stderr());
        assertEquals(3_666_760L, ((Number) Json.parseObject(stdout().trim(), "o").get("parameters")).longValue());
    }

    @Test
    void benchJsonReportsThroughputAndLatency() {
        assertEquals(0, Main.run("bench", "--model", "vit_fmnist", "--seconds", "0.2", "--json"), stderr());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        assertEquals(32L, ((Number) o.get("batch")).longValue());
        assertTrue(((Number) o.get("images_per_s")).doubleValue() > 0);
        assertTrue(((Number) o.get("latency_ms_median")).doubleValue() > 0);
    }

    @Test
    void predictGivesTopKProbabilitiesForTestEntries(@TempDir Path dir) throws Exception {
        assertEquals(0, Main.run("predict", "--model", tinyModel(dir).toString(), "--index", "0,1", "--top-k", "3",
                "--json"), stderr());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        List<?> preds = (List<?>) o.get("predictions");
        assertEquals(2, preds.size());
        List<?> top = (List<?>) ((Map<?, ?>) preds.getFirst()).get("top");
        assertEquals(3, top.size());
        double p0 = ((Number) ((Map<?, ?>) top.get(0)).get("probability")).doubleValue();
        double p1 = ((Number) ((Map<?, ?>) top.get(1)).get("probability")).doubleValue();
        assertTrue(p0 >= p1 && p0 <= 1.0);
    }

    @Test
    void trainWritesAModelRecordingItsCommandAndInitStartsAFineTuneFromIt(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(FashionMnist.findInstalled().isPresent(), "Fashion-MNIST is not installed");
        Path first = dir.resolve("first.safetensors");
        assertEquals(0, Main.run("train", "--model", "vit_fmnist", "--epochs", "1", "--limit", "256",
                "--eval-limit", "100", "--batch-size", "64", "--seed", "3", "--out", first.toString()), stderr());
        Path second = dir.resolve("second.safetensors");
        assertEquals(0, Main.run("train", "--init", first.toString(), "--epochs", "1", "--limit", "128",
                "--eval-limit", "100", "--batch-size", "64", "--out", second.toString()), stderr());
        try (SafetensorsFile f = Safetensors.read(second)) {
            Map<String, String> meta = f.metadata();
            assertTrue(meta.get("train.command").contains("--init"), meta.toString());
            assertTrue(meta.get("train.init_command").contains("--seed 3"), meta.toString());
            assertEquals("100", meta.get("eval.images"));
            assertTrue(!f.contains("optim.m.head.weight"), "the final model carries no optimizer state");
        }
        assertTrue(Files.exists(dir.resolve("second.safetensors.ckpt")), "the training checkpoint is kept beside it");
    }

    @Test
    void unknownFlagIsAUsageErrorWithExitCode2() {
        assertEquals(2, Main.run("eval", "--no-such-flag"));
        assertTrue(stderr().contains("--no-such-flag"), stderr());
    }

    @Test
    void nonPositiveThreadsIsRejectedWithAClearMessage() {
        assertEquals(2, Main.run("bench", "--model", "vit_fmnist", "--threads", "0"));
        assertTrue(stderr().contains("--threads must be at least 1"), stderr());
    }

    @Test
    void unknownConfigNameListsTheKnownOnes() {
        assertEquals(2, Main.run("info", "--model", "resnet50"));
        assertTrue(stderr().contains("unknown model config") && stderr().contains("pvt_v2_fmnist"), stderr());
    }

    @Test
    void truncatedModelFileIsRejectedNamingTheFile(@TempDir Path dir) throws Exception {
        Path good = tinyModel(dir);
        byte[] bytes = Files.readAllBytes(good);
        Path bad = dir.resolve("truncated.safetensors");
        Files.write(bad, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertEquals(2, Main.run("eval", "--model", bad.toString(), "--sample"));
        assertTrue(stderr().contains("truncated.safetensors"), stderr());
    }

    @Test
    void nonImageFileIsRejectedNamingTheFile(@TempDir Path dir) throws Exception {
        Path notImage = dir.resolve("notes.png");
        Files.writeString(notImage, "this is not a png");
        assertEquals(2, Main.run("predict", "--model", tinyModel(dir).toString(), notImage.toString()));
        assertTrue(stderr().contains("notes.png"), stderr());
    }

    @Test
    void predictJsonLogitsSoftmaxToTheProbabilities(@TempDir Path dir) throws Exception {
        assertEquals(0, Main.run("predict", "--model", tinyModel(dir).toString(), "--index", "0,1", "--top-k", "3",
                "--json"), stderr());
        List<?> preds = (List<?>) Json.parseObject(stdout().trim(), "stdout").get("predictions");
        for (Object pred : preds) {
            List<?> logits = (List<?>) ((Map<?, ?>) pred).get("logits");
            assertEquals(10, logits.size());
            double max = logits.stream().mapToDouble(l -> ((Number) l).doubleValue()).max().orElseThrow();
            double sum = logits.stream().mapToDouble(l -> Math.exp(((Number) l).doubleValue() - max)).sum();
            for (Object t : (List<?>) ((Map<?, ?>) pred).get("top")) {
                Map<?, ?> top = (Map<?, ?>) t;
                double logit = ((Number) logits.get(((Number) top.get("index")).intValue())).doubleValue();
                assertEquals(logit, ((Number) top.get("logit")).doubleValue());
                assertEquals(Math.exp(logit - max) / sum, ((Number) top.get("probability")).doubleValue(), 1e-6);
            }
        }
    }

    @Test
    void predictOnIdxDataThatIsNotFashionMnistNamesClassesByIndex(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("digits"));
        byte[] pixels = new byte[3 * 28 * 28];
        for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) (i * 7);
        Idx.write(data.resolve("t10k-images-idx3-ubyte"), new int[] {3, 28, 28}, pixels, false);
        Idx.write(data.resolve("t10k-labels-idx1-ubyte"), new int[] {3}, new byte[] {5, 9, 0}, false);
        assertEquals(0, Main.run("predict", "--model", tinyModel(dir).toString(), "--data", data.toString(),
                "--index", "0,1", "--top-k", "10", "--json"), stderr());
        List<?> preds = (List<?>) Json.parseObject(stdout().trim(), "stdout").get("predictions");
        assertEquals("class 5", ((Map<?, ?>) preds.get(0)).get("label"));
        assertEquals("class 9", ((Map<?, ?>) preds.get(1)).get("label"));
        for (Object pred : preds) {
            for (Object t : (List<?>) ((Map<?, ?>) pred).get("top")) {
                Map<?, ?> top = (Map<?, ?>) t;
                assertEquals("class " + top.get("index"), top.get("class"));
            }
        }
        out.reset();
        assertEquals(0, Main.run("predict", "--model", tinyModel(dir).toString(), "--index", "0", "--json"), stderr());
        Map<?, ?> fashion = (Map<?, ?>) ((List<?>) Json.parseObject(stdout().trim(), "stdout").get("predictions")).getFirst();
        assertEquals(FashionMnist.className(9), fashion.get("label"), "the default data is Fashion-MNIST: its names");
    }
}
