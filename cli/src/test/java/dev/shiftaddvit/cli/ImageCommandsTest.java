package dev.shiftaddvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.Prediction;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.Resize;
import dev.shiftaddvit.data.ImageNetLabels;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.VitConfig;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** predict and eval on RGB image files with a tiny 1000-class RGB model. */
class ImageCommandsTest extends ConsoleCapture {
    @TempDir
    Path dir;

    private Path rgbModel() throws Exception {
        VitConfig c = VitConfig.builder("rgb_tiny").imgSize(16).patchSize(8).inChans(3).numClasses(1000).embedDim(8)
                .depth(1).heads(2).mlpRatio(2.0).qkvBias(true).classToken(true).eps(1e-6f)
                .mean(0.485f, 0.456f, 0.406f).std(0.229f, 0.224f, 0.225f).build();
        Path p = dir.resolve("rgb.safetensors");
        Checkpoints.save(p, c.build(7), null, Map.of());
        return p;
    }

    private Path image(String relative, int w, int h, String format) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (x * 40) << 16 | (y * 30) << 8 | 90);
        Path p = dir.resolve(relative);
        Files.createDirectories(p.getParent());
        ImageIO.write(img, format, p.toFile());
        return p;
    }

    @Test
    void predictPrintsTop5ImageNetNamesForRgbFiles() throws Exception {
        Path png = image("in/a.png", 30, 20, "png");
        Path jpg = image("in/b.jpg", 19, 25, "jpeg");
        assertEquals(0, Main.run("predict", "--model", rgbModel().toString(), png.toString(), jpg.toString(), "--json"),
                stderr());
        List<?> preds = (List<?>) Json.parseObject(stdout().trim(), "stdout").get("predictions");
        assertEquals(2, preds.size());
        List<?> top = (List<?>) ((Map<?, ?>) preds.getFirst()).get("top");
        assertEquals(5, top.size());
        Map<?, ?> best = (Map<?, ?>) top.getFirst();
        int index = ((Number) best.get("index")).intValue();
        assertEquals(ImageNetLabels.names().get(index), best.get("class"));

        out.reset();
        assertEquals(0, Main.run("predict", "--model", rgbModel().toString(), png.toString(),
                "--interpolation", "bilinear", "--crop-pct", "1"), stderr());
        assertEquals(6, stdout().trim().lines().count(), stdout());
    }

    @Test
    void evalScoresAClassPerFolderImageSet() throws Exception {
        image("set/n01/a.png", 30, 20, "png");
        image("set/n01/b.jpg", 20, 24, "jpeg");
        image("set/n02/c.png", 17, 17, "png");
        assertEquals(0, Main.run("eval", "--model", rgbModel().toString(), "--images", dir.resolve("set").toString(),
                "--batch-size", "2", "--json"), stderr());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        assertEquals(3L, ((Number) o.get("images")).longValue());
        assertEquals(dir.resolve("set").toString(), o.get("data"));
        assertTrue(stderr().contains("2 class folders for a 1000-class model"), stderr());
    }

    @Test
    void evalOnAFolderWithoutClassesNamesIt() throws Exception {
        Files.createDirectories(dir.resolve("empty"));
        assertEquals(2, Main.run("eval", "--model", rgbModel().toString(), "--images", dir.resolve("empty").toString()));
        assertTrue(stderr().contains("empty") && stderr().contains("no class folders"), stderr());
    }

    @Test
    void predictWithCropPctOneGivesWhatTheJavaApiGivesWithCropPctOne() throws Exception {
        Path model = rgbModel();
        Path png = image("in/wide.png", 30, 20, "png");
        ImageClassifier clf = ImageClassifier.load(model);
        ImagePreprocessing whole = new ImagePreprocessing(1.0, Resize.Filter.BICUBIC, false);
        assertEquals(0, Main.run("predict", "--model", model.toString(), png.toString(), "--crop-pct", "1",
                "--top-k", "3", "--json"), stderr());
        Map<?, ?> pred = (Map<?, ?>) ((List<?>) Json.parseObject(stdout().trim(), "stdout").get("predictions")).getFirst();
        List<Prediction> api = clf.predict(png, 3, whole);
        List<?> top = (List<?>) pred.get("top");
        for (int i = 0; i < 3; i++) {
            Map<?, ?> t = (Map<?, ?>) top.get(i);
            assertEquals(api.get(i).classIndex(), ((Number) t.get("index")).intValue());
            assertEquals(api.get(i).logit(), ((Number) t.get("logit")).floatValue());
            assertEquals(api.get(i).probability(), ((Number) t.get("probability")).floatValue());
        }
        assertFalse(Arrays.equals(clf.input(png, ImagePreprocessing.DEFAULT), clf.input(png, whole)),
                "the default 0.875 crop sees another input");
    }
}
