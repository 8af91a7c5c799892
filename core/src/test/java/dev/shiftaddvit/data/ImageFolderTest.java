package dev.shiftaddvit.data;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.eval.Evaluation;
import dev.shiftaddvit.eval.Evaluator;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.VitConfig;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir
    Path root;

    private static final Preprocess PRE = Preprocess.of(16, 0.875, Resize.Filter.BICUBIC);
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    private Path image(String relative, int w, int h) throws IOException {
        Path p = root.resolve(relative);
        PreprocessTest.writePng(PreprocessTest.formulaImage(w, h), p);
        return p;
    }

    @Test
    void classesAreSortedFolderNamesAndFilesAreFoundAtAnyDepth() throws IOException {
        image("zebra/b.png", 20, 30);
        image("zebra/a.png", 25, 18);
        image("cat/x/deep.jpg.png", 18, 18);
        image("cat/1.PNG", 40, 19);
        image(".ipynb_checkpoints/ignored.png", 20, 20);
        image("cat/.hidden/ignored.png", 20, 20);
        Files.writeString(root.resolve("cat/notes.txt"), "not an image, skipped");
        ImageFolder f = ImageFolder.open(root, PRE);
        assertEquals(List.of("cat", "zebra"), f.classes());
        assertEquals(4, f.n());
        assertEquals(root.resolve("cat/1.PNG"), f.file(0));
        assertEquals(root.resolve("zebra/a.png"), f.file(2));
        assertEquals(List.of(0, 0, 1, 1), List.of(f.label(0), f.label(1), f.label(2), f.label(3)));
        assertEquals(16, f.h());
        assertEquals(3, f.channels());

        Batch b = new BatchSource(f, MEAN, STD).sequential(0, 3);
        assertEquals(List.of(3, 16, 16, 3), java.util.Arrays.stream(b.images().shape()).boxed().toList());
        assertEquals(List.of(0, 0, 1), java.util.Arrays.stream(b.labels()).boxed().toList());
        // Pixel (0, 0) of image 2 after the transform, normalised with the red channel's mean/std.
        RgbImage crop = PRE.apply(PreprocessTest.formulaImage(25, 18));
        assertEquals((crop.get(0, 0, 0) / 255f - MEAN[0]) / STD[0], b.images().data()[2 * 16 * 16 * 3], 0f);
    }

    @Test
    void aModelEvaluatesOnTheFolder() throws IOException {
        for (int i = 0; i < 3; i++) image("a/" + i + ".png", 20 + i, 17);
        image("b/0.png", 17, 23);
        VitConfig cfg = VitConfig.builder("rgb_tiny").imgSize(16).patchSize(8).inChans(3).numClasses(2).embedDim(8)
                .depth(1).heads(2).mlpRatio(2.0).qkvBias(true).classToken(true).eps(1e-6f).mean(MEAN).std(STD)
                .build();
        Model m = cfg.build(1);
        Evaluation e = Evaluator.evaluate(m, new BatchSource(ImageFolder.open(root, PRE), MEAN, STD), 2, null);
        assertEquals(4, e.images());
        assertTrue(e.correct() >= 0 && e.correct() <= 4 && Double.isFinite(e.loss()));
    }

    @Test
    void badFoldersAndImagesAreRejectedByName() throws IOException {
        assertInvalid(root.resolve("missing"), "not a directory", () -> ImageFolder.open(root.resolve("missing"), PRE));
        assertInvalid(root, "no class folders", () -> ImageFolder.open(root, PRE));
        image("full/0.png", 20, 20);
        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve("empty/readme.txt"), "no images here");
        assertInvalid(root.resolve("empty"), "no .jpg", () -> ImageFolder.open(root, PRE));
        Files.delete(root.resolve("empty/readme.txt"));
        Files.delete(root.resolve("empty"));

        Path bad = root.resolve("full/1.jpg");
        Files.writeString(bad, "this is not a jpeg");
        ImageFolder f = ImageFolder.open(root, PRE);
        BatchSource src = new BatchSource(f, MEAN, STD);
        assertInvalid(bad, "not a recognised image", () -> src.sequential(0, 2));
    }

    @Test
    void trainingBatchesGetTheRandomResizedCropAndEvaluationBatchesTheCentreCrop() throws IOException {
        image("a/0.png", 40, 30);
        image("b/0.png", 33, 41);
        ImageFolder eval = ImageFolder.open(root, PRE);
        ImageFolder train = eval.withTrainCrop(new RandomResizedCrop(16, 0.08, Resize.Filter.BICUBIC));
        byte[] centre = new byte[16 * 16 * 3];
        eval.copyPixels(0, centre, 0);
        byte[] untouched = new byte[centre.length];
        eval.copyTrainingPixels(0, untouched, 0, new SplittableRandom(5));
        assertArrayEquals(centre, untouched, "without a training crop, training batches get the evaluation transform");
        byte[] a = new byte[centre.length];
        byte[] b = new byte[centre.length];
        train.copyTrainingPixels(0, a, 0, new SplittableRandom(5));
        train.copyTrainingPixels(0, b, 0, new SplittableRandom(5));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(centre, a));
        byte[] evalOfTrain = new byte[centre.length];
        train.copyPixels(0, evalOfTrain, 0);
        assertArrayEquals(centre, evalOfTrain, "evaluation batches of the training split stay centre crops");

        BatchSource src = new BatchSource(train, MEAN, STD);
        Batch t1 = src.training(new int[]{1, 0}, 0, 2, Augment.NONE, 7, 0);
        Batch t2 = src.training(new int[]{1, 0}, 0, 2, Augment.NONE, 7, 0);
        assertArrayEquals(t1.images().data(), t2.images().data(), 0f, "a (seed, epoch, index) gives one crop");
        Batch t3 = src.training(new int[]{1, 0}, 0, 2, Augment.NONE, 7, 1);
        assertFalse(Arrays.equals(t1.images().data(), t3.images().data()), "the next epoch crops anew");
        assertArrayEquals(src.sequential(0, 2).images().data(), src.select(new int[]{0, 1}).images().data(), 0f);
    }

    @Test
    void evenlySpacedKeepsEveryClass() throws IOException {
        for (String c : List.of("a", "b", "c")) for (int i = 0; i < 4; i++) image(c + "/" + i + ".png", 20, 20);
        ImageFolder f = ImageFolder.open(root, PRE).evenlySpaced(3);
        assertEquals(3, f.n());
        assertEquals(List.of(0, 1, 2), List.of(f.label(0), f.label(1), f.label(2)));
        assertEquals(root.resolve("b/0.png"), f.file(1));
        assertEquals(12, ImageFolder.open(root, PRE).evenlySpaced(100).n());
    }

    @Test
    void classNamesSortByCodePointAsPythonDoes() {
        String fullwidthA = "\uFF21";
        String emoji = "\uD83D\uDE00";
        assertTrue(fullwidthA.compareTo(emoji) > 0, "UTF-16 order puts the surrogate pair first");
        assertTrue(ImageFolder.compareCodePoints(fullwidthA, emoji) < 0);
        assertTrue(ImageFolder.compareCodePoints("cat", "cats") < 0);
        assertTrue(ImageFolder.compareCodePoints("dog", "cat") > 0);
        assertEquals(0, ImageFolder.compareCodePoints("n01", "n01"));
    }

    @Test
    void bmpFilesAreImagesToo() throws IOException {
        image("a/0.png", 20, 20);
        ImageIO.write(new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB), "bmp", root.resolve("a/1.bmp").toFile());
        assertEquals(2, ImageFolder.open(root, PRE).n());
    }

    @Test
    void channelCountMustMatchTheModel() throws IOException {
        image("a/0.png", 20, 20);
        ImageFolder f = ImageFolder.open(root, PRE);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new BatchSource(f, new float[]{0.5f}, new float[]{0.5f}));
        assertTrue(e.getMessage().contains("3 channels"), e.getMessage());
    }
}
