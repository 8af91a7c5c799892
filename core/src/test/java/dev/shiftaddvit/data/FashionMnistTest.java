package dev.shiftaddvit.data;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir
    Path dir;

    @Test
    void bundledSampleLoads() {
        Dataset s = FashionMnist.bundledSample();
        assertEquals(1000, s.n());
        assertEquals(28, s.h());
        assertEquals(28, s.w());
        assertEquals(1000 * 784, s.pixels().length);
        int[] hist = s.labelHistogram(10);
        assertEquals(1000, Arrays.stream(hist).sum(), "all labels below 10");
        for (int c = 0; c < 10; c++) assertTrue(hist[c] > 50, "class " + c + " is represented: " + hist[c]);
        assertEquals(9, s.label(0), "the first Fashion-MNIST test image is an ankle boot");
    }

    @Test
    void bundledSampleEqualsTheFirstThousandInstalledTestImages() {
        assumeTrue(FashionMnist.findInstalled().isPresent(), "Fashion-MNIST is not installed");
        Dataset test = FashionMnist.load(FashionMnist.findInstalled().get(), FashionMnist.Split.TEST);
        assertEquals(10000, test.n());
        Dataset first = test.subset(0, 1000);
        Dataset sample = FashionMnist.bundledSample();
        assertArrayEquals(first.pixels(), sample.pixels());
        assertArrayEquals(first.labels(), sample.labels());
        assertEquals(first, sample);
    }

    @Test
    void classNames() {
        assertEquals(10, FashionMnist.CLASS_NAMES.length);
        assertEquals("T-shirt/top", FashionMnist.className(0));
        assertEquals("Ankle boot", FashionMnist.className(9));
        assertEquals("class 12", FashionMnist.className(12));
    }

    private void writeSplit(Path d, String prefix, int n, int h, int w, int nLabels, boolean gz, int label) throws IOException {
        byte[] px = new byte[n * h * w];
        for (int i = 0; i < px.length; i++) px[i] = (byte) i;
        byte[] lb = new byte[nLabels];
        Arrays.fill(lb, (byte) label);
        String ext = gz ? ".gz" : "";
        Idx.write(d.resolve(prefix + "-images-idx3-ubyte" + ext), new int[] {n, h, w}, px, gz);
        Idx.write(d.resolve(prefix + "-labels-idx1-ubyte" + ext), new int[] {nLabels}, lb, gz);
    }

    @Test
    void loadsGzipAndRawSplitsFromADirectory() throws IOException {
        writeSplit(dir, "train", 3, 28, 28, 3, true, 4);
        writeSplit(dir, "t10k", 2, 28, 28, 2, false, 7);
        Dataset train = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
        Dataset test = FashionMnist.load(dir, FashionMnist.Split.TEST);
        assertEquals(3, train.n());
        assertEquals(4, train.label(2));
        assertEquals(2, test.n());
        assertEquals(7, test.label(0));
        assertEquals((byte) 29, test.pixels()[29]);
        assertEquals(29 / 255f, test.pixel(0, 1, 1), 1e-7f);
        assertTrue(FashionMnist.hasSplit(dir, FashionMnist.Split.TRAIN));
    }

    @Test
    void missingDirectoryOrFileNamesItAndSuggestsTheFix() throws IOException {
        Path nowhere = dir.resolve("nowhere");
        assertInvalid(nowhere, "directory not found; install Fashion-MNIST with `apt-get install dataset-fashion-mnist` or pass --data",
                () -> FashionMnist.load(nowhere, FashionMnist.Split.TEST));
        writeSplit(dir, "t10k", 2, 28, 28, 2, true, 1);
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte.gz"));
        assertInvalid(dir, "missing t10k-labels-idx1-ubyte.gz (or t10k-labels-idx1-ubyte); install Fashion-MNIST with `apt-get install dataset-fashion-mnist`",
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        assertInvalid(dir, "missing train-images-idx3-ubyte.gz", () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN));
    }

    @Test
    void rejectsCountMismatchWrongSizeAndBadLabels() throws IOException {
        writeSplit(dir, "t10k", 3, 28, 28, 2, true, 1);
        Path images = dir.resolve("t10k-images-idx3-ubyte.gz");
        assertInvalid(images, "3 images but 2 labels in " + dir.resolve("t10k-labels-idx1-ubyte.gz"),
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        writeSplit(dir, "t10k", 2, 32, 32, 2, true, 1);
        assertInvalid(images, "images are 32x32, Fashion-MNIST needs 28x28", () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
        writeSplit(dir, "t10k", 2, 28, 28, 2, true, 10);
        assertInvalid(dir.resolve("t10k-labels-idx1-ubyte.gz"), "label 10 at index 0 is outside [0, 10)",
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST));
    }

    @Test
    void datasetSubsetAndImages() {
        Dataset s = FashionMnist.bundledSample();
        Dataset sub = s.subset(10, 13);
        assertEquals(3, sub.n());
        assertEquals(s.label(11), sub.label(1));
        float[] img = sub.image(2);
        for (int k = 0; k < 784; k++) assertEquals((s.pixels()[12 * 784 + k] & 0xff) / 255f, img[k], 1e-7f);
        assertEquals(s.pixel(12, 5, 7), sub.pixel(2, 5, 7));
    }
}
