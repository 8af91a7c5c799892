package dev.shiftaddvit;

import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.Preprocess;
import dev.shiftaddvit.data.Resize;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.VitConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ImageClassifierTest {
    private static final VitConfig RGB = VitConfig.builder("rgb_tiny").imgSize(16).patchSize(8).inChans(3)
            .numClasses(7).embedDim(8).depth(1).heads(2).mlpRatio(2.0).qkvBias(true).classToken(true).eps(1e-6f)
            .mean(0.485f, 0.456f, 0.406f).std(0.229f, 0.224f, 0.225f).build();

    @TempDir
    Path dir;

    private Path wideImage() throws IOException {
        BufferedImage img = new BufferedImage(30, 20, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 20; y++) for (int x = 0; x < 30; x++) img.setRGB(x, y, (x * 8) << 16 | (y * 12) << 8 | 90);
        Path p = dir.resolve("wide.png");
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    @Test
    void cropPctOneSeesMoreOfANonSquareImageThanTheDefault() throws IOException {
        ImageClassifier clf = new ImageClassifier(RGB.build(3), ImageClassifier.defaultLabels(RGB, true));
        Path png = wideImage();
        ImagePreprocessing whole = new ImagePreprocessing(1.0, Resize.Filter.BICUBIC, false);
        float[] cropped = clf.input(png, ImagePreprocessing.DEFAULT);
        float[] full = clf.input(png, whole);
        assertArrayEquals(Preprocess.forModel(RGB).read(png).toUnit(), cropped, "the default is the DeiT transform");
        assertArrayEquals(Preprocess.of(16, 1.0, Resize.Filter.BICUBIC).read(png).toUnit(), full);
        assertFalse(Arrays.equals(cropped, full));
        assertEquals(clf.predict(full, 7), clf.predict(png, 7, whole));
        assertEquals(clf.predict(cropped, 7), clf.predict(png, 7));
    }

    @Test
    void cropPctOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ImagePreprocessing(1.2, Resize.Filter.BILINEAR, false));
    }

    @Test
    void probabilitiesAreTheSoftmaxOfTheLogitsEachPredictionCarries() {
        ImageClassifier clf = new ImageClassifier(RGB.build(5), ImageClassifier.defaultLabels(RGB, true));
        float[] px = new float[16 * 16 * 3];
        for (int i = 0; i < px.length; i++) px[i] = (i * 37 % 255) / 255f;
        List<Prediction> all = clf.predict(px, 7);
        double max = all.stream().mapToDouble(Prediction::logit).max().orElseThrow();
        double sum = all.stream().mapToDouble(p -> Math.exp(p.logit() - max)).sum();
        for (Prediction p : all) assertEquals(Math.exp(p.logit() - max) / sum, p.probability(), 1e-6, p.toString());
    }

    @Test
    void fashionMnistNamesOnlyForFashionMnistInputs() {
        ModelConfig gray = Configs.byName("pvt_v2_fmnist");
        assertEquals(List.of(FashionMnist.CLASS_NAMES), List.of(ImageClassifier.defaultLabels(gray, true)));
        assertEquals("class 5", ImageClassifier.defaultLabels(gray, false)[5]);
        assertEquals("class 6", ImageClassifier.defaultLabels(RGB, true)[6]);
    }

    @Test
    void namesAreCopiedAndPredictionsAreListsOfTheirOwn() {
        String[] names = ImageClassifier.defaultLabels(RGB, true);
        ImageClassifier clf = new ImageClassifier(RGB.build(5), names);
        names[0] = "renamed later";
        assertEquals("class 0", clf.label(0));
        float[] px = new float[16 * 16 * 3];
        List<Prediction> top2 = clf.predict(px, 2);
        assertEquals(2, top2.size());
        assertThrows(UnsupportedOperationException.class, () -> top2.add(top2.getFirst()));
        assertThrows(IllegalArgumentException.class, () -> clf.predict(px, -1));
    }
}
