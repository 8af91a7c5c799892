package dev.shiftaddvit.data;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.train.Batch;
import dev.shiftaddvit.train.BatchSource;
import dev.shiftaddvit.train.Evaluation;
import dev.shiftaddvit.train.Evaluator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        VitConfig cfg = new VitConfig("rgb_tiny", 16, 8, 3, 2, 8, 1, 2, 2.0, true, true, 1e-6f, MEAN, STD);
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
    void channelCountMustMatchTheModel() throws IOException {
        image("a/0.png", 20, 20);
        ImageFolder f = ImageFolder.open(root, PRE);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new BatchSource(f, new float[]{0.5f}, new float[]{0.5f}));
        assertTrue(e.getMessage().contains("3 channels"), e.getMessage());
    }
}
