package dev.shiftaddvit.data;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
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
    void aLimitedLoadHoldsTheFirstImagesAndLabelsOfAFullLoad() throws IOException {
        writeSplit(dir, "train", 50, 28, 28, 50, true, 3);
        Dataset full = FashionMnist.load(dir, FashionMnist.Split.TRAIN);
        Dataset first = FashionMnist.load(dir, FashionMnist.Split.TRAIN, 7);
        assertEquals(7, first.n());
        assertArrayEquals(full.subset(0, 7).pixels(), first.pixels());
        assertArrayEquals(full.subset(0, 7).labels(), first.labels());
        assertEquals(50, FashionMnist.load(dir, FashionMnist.Split.TRAIN, 500).n(), "a limit above the count reads all");
    }

    @Test
    void aLimitedLoadStillChecksTheDeclaredCounts() throws IOException {
        writeSplit(dir, "t10k", 5, 28, 28, 4, true, 1);
        assertInvalid(dir.resolve("t10k-images-idx3-ubyte.gz"), "5 images but 4 labels",
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 2));
    }

    @Test
    void aLimitedLoadInflatesOnlyTheImagesItNeeds() throws IOException {
        // 100,000 declared images (within the cap) but only 32 MB of zeros: stopping after 64 images,
        // the load neither inflates the rest nor reaches the early end.
        Path images = gzipOfZeros(dir.resolve("train-images-idx3-ubyte.gz"), 100_000, 28, 28);
        Idx.write(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {100_000}, new byte[100_000], true);
        long before = allocatedBytes();
        Dataset first = FashionMnist.load(dir, FashionMnist.Split.TRAIN, 64);
        long used = allocatedBytes() - before;
        assertEquals(64, first.n());
        assertTrue(Files.size(images) < 1 << 20, "the bomb is small: " + Files.size(images));
        assertTrue(used < 4L << 20, "allocated " + used + " bytes for 64 images");
    }

    @Test
    void aGzipBombDeclaringMillionsOfImagesIsRefusedFromItsHeader() throws IOException {
        // 2.7 million images (2.1 GB, within a byte array) or 60 million, with a stream of zeros behind the header.
        for (int count : new int[] {2_700_000, 60_000_000}) {
            Path images = gzipOfZeros(dir.resolve("train-images-idx3-ubyte.gz"), count, 28, 28);
            Idx.write(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {64}, new byte[64], true);
            assertTrue(Files.size(images) < 1 << 20, "the bomb is small: " + Files.size(images));
            for (int limit : new int[] {64, Integer.MAX_VALUE}) {
                long before = allocatedBytes();
                assertInvalid(images, "declare " + 784L * count + " bytes of data, more than the limit",
                        () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, limit));
                long used = allocatedBytes() - before;
                assertTrue(used < 4L << 20, "allocated " + used + " bytes before refusing");
            }
        }
    }

    /** A gzip IDX image file declaring {@code n} images of h×w followed by up to 32 MB of zeros, streamed. */
    static Path gzipOfZeros(Path file, int n, int h, int w) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file), 1 << 16)) {
            DataOutputStream d = new DataOutputStream(out);
            d.writeInt(Idx.MAGIC_UBYTE_3D);
            d.writeInt(n);
            d.writeInt(h);
            d.writeInt(w);
            byte[] zeros = new byte[1 << 16];
            for (long left = Math.min((long) n * h * w, 32L << 20); left > 0; left -= zeros.length) {
                d.write(zeros, 0, (int) Math.min(left, zeros.length));
            }
            d.flush();
        }
        return file;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
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
