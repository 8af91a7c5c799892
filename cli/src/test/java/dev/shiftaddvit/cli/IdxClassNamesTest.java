package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.Idx;
import dev.shiftaddvit.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A model trained on IDX data that is not Fashion-MNIST records its own class names, not clothes. */
class IdxClassNamesTest extends ConsoleCapture {
    private static final List<String> DIGITS =
            List.of("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine");

    /** A tiny IDX data set of 28×28 images: 20 for training, 10 for testing, labels 0..9 in turn. */
    private static Path idxData(Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("digits"));
        for (FashionMnist.Split split : FashionMnist.Split.values()) {
            int n = split == FashionMnist.Split.TRAIN ? 20 : 10;
            byte[] pixels = new byte[n * 28 * 28];
            for (int i = 0; i < pixels.length; i++) pixels[i] = (byte) (i * 31 + (i / 784) * 17);
            byte[] labels = new byte[n];
            for (int i = 0; i < n; i++) labels[i] = (byte) (i % 10);
            Idx.write(data.resolve(split.imagesFile()), new int[] {n, 28, 28}, pixels, false);
            Idx.write(data.resolve(split.labelsFile()), new int[] {n}, labels, false);
        }
        return data;
    }

    private int train(Path data, Path out) {
        return Main.run("train", "--model", "vit_fmnist", "--data", data.toString(), "--epochs", "1",
                "--batch-size", "10", "--out", out.toString());
    }

    @Test
    void trainingRecordsTheNamesFileAndPredictNamesTheTestImagesWithThem(@TempDir Path dir) throws Exception {
        Path data = idxData(dir);
        Files.write(data.resolve(FashionMnist.CLASS_NAMES_FILE), DIGITS);
        Path model = dir.resolve("digits.safetensors");
        assertEquals(0, train(data, model), stderr());
        assertEquals(DIGITS, Checkpoints.load(model).classNames());

        out.reset();
        assertEquals(0, Main.run("predict", "--model", model.toString(), "--data", data.toString(), "--index", "3",
                "--json"), stderr());
        Map<?, ?> p = (Map<?, ?>) ((List<?>) Json.parseObject(stdout().trim(), "stdout").get("predictions")).getFirst();
        assertEquals("three", p.get("label"));
        for (Object t : (List<?>) p.get("top")) {
            Map<?, ?> top = (Map<?, ?>) t;
            assertEquals(DIGITS.get(((Number) top.get("index")).intValue()), top.get("class"));
        }
    }

    @Test
    void aModelThatRecordsNoNamesIsToldTheDataDirectorysNamesOnIndexedTestImages(@TempDir Path dir) throws Exception {
        Path data = idxData(dir);
        Path trained = dir.resolve("trained.safetensors");
        assertEquals(0, train(data, trained), stderr());
        Checkpoints.Loaded loaded = Checkpoints.load(trained);
        Path unnamed = dir.resolve("unnamed.safetensors");
        Checkpoints.save(unnamed, loaded.model(), null, Map.of());
        assertNull(Checkpoints.load(unnamed).classNames());
        Files.write(data.resolve(FashionMnist.CLASS_NAMES_FILE), DIGITS);

        out.reset();
        assertEquals(0, Main.run("predict", "--model", unnamed.toString(), "--data", data.toString(), "--index", "7",
                "--json"), stderr());
        Map<?, ?> p = (Map<?, ?>) ((List<?>) Json.parseObject(stdout().trim(), "stdout").get("predictions")).getFirst();
        assertEquals("seven", p.get("label"));
        Map<?, ?> top = (Map<?, ?>) ((List<?>) p.get("top")).getFirst();
        assertEquals(DIGITS.get(((Number) top.get("index")).intValue()), top.get("class"));
    }

    @Test
    void predictOnDataWhoseNamesFileIsBadIsBadInputNamingTheFile(@TempDir Path dir) throws Exception {
        Path data = idxData(dir);
        Path trained = dir.resolve("trained.safetensors");
        assertEquals(0, train(data, trained), stderr());
        Path unnamed = dir.resolve("unnamed.safetensors");
        Checkpoints.save(unnamed, Checkpoints.load(trained).model(), null, Map.of());
        Path names = data.resolve(FashionMnist.CLASS_NAMES_FILE);
        Files.write(names, List.of("a", "b", "c"));

        out.reset();
        assertEquals(2, Main.run("predict", "--model", unnamed.toString(), "--data", data.toString(), "--index", "7"));
        assertTrue(stderr().contains(names + ": names 3 classes"), stderr());
        assertEquals("", stdout());
    }

    @Test
    void withoutANamesFileOtherIdxDataRecordsClassesByIndex(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("unnamed.safetensors");
        assertEquals(0, train(idxData(dir), model), stderr());
        assertEquals(IntStream.range(0, 10).mapToObj(i -> "class " + i).toList(), Checkpoints.load(model).classNames());
    }

    @Test
    void aNamesFileThatDoesNotNameTenDistinctClassesOrIsHugeIsBadInput(@TempDir Path dir) throws Exception {
        Path data = idxData(dir);
        Path names = data.resolve(FashionMnist.CLASS_NAMES_FILE);
        Path model = dir.resolve("never.safetensors");
        Files.write(names, List.of("a", "b", "c"));
        assertEquals(2, train(data, model));
        assertTrue(stderr().contains(names + ": names 3 classes"), stderr());
        err.reset();
        Files.write(names, List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "a"));
        assertEquals(2, train(data, model));
        assertTrue(stderr().contains(names + ": names a class twice"), stderr());
        err.reset();
        Files.write(names, IntStream.range(0, 10).mapToObj(i -> i + "x".repeat(7000)).toList());
        assertEquals(2, train(data, model));
        assertTrue(stderr().contains(names + ": larger than"), stderr());
        assertFalse(Files.exists(model));
    }
}
