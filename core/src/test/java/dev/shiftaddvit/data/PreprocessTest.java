package dev.shiftaddvit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The timm/DeiT eval transform, bit for bit against scripts/make_resize_fixtures.py. */
class PreprocessTest {
    @TempDir
    Path dir;

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    /** The script's formula_image: edges, gradients and texture without an RNG. */
    static RgbImage formulaImage(int w, int h) {
        byte[] px = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int v = (x * 7 + y * 13 + c * 50 + (x * y) % 17 + ((x / 9 + y / 7) % 2) * 90) % 256;
                    px[(y * w + x) * 3 + c] = (byte) v;
                }
            }
        }
        return new RgbImage(px, w, h);
    }

    static void writePng(RgbImage img, Path file) throws IOException {
        BufferedImage b = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                b.setRGB(x, y, img.get(x, y, 0) << 16 | img.get(x, y, 1) << 8 | img.get(x, y, 2));
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(b, "png", file.toFile());
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void cropAndNormalisedTensorEqualTimmsEvalTransform() throws IOException {
        String json = new String(ResizeTest.readResource("eval_transforms.json"), StandardCharsets.UTF_8);
        List<Object> cases = Json.getList(Json.parseObject(json, "eval_transforms.json"), "cases", "fixture");
        for (Object o : cases) {
            Map<String, Object> c = Json.asObject(o, "case", "fixture");
            int w = Json.getInt(c, "width", "f");
            int h = Json.getInt(c, "height", "f");
            Preprocess pre = Preprocess.of(Json.getInt(c, "crop", "f"), Json.getDouble(c, "crop_pct", "f"),
                    Resize.Filter.parse(Json.getString(c, "interpolation", "f")));
            String what = w + "x" + h + " " + pre;
            RgbImage formula = formulaImage(w, h);
            assertEquals(Json.getString(c, "crop_sha256", "f"), sha256(pre.apply(formula).pixels()), what);

            // The same image through the data set path: PNG file, ImageFolder, BatchSource.
            Path root = dir.resolve(w + "x" + h + "_" + pre.cropSize() + "_" + pre.filter());
            writePng(formula, root.resolve("only_class/img.png"));
            Tensor t = new BatchSource(ImageFolder.open(root, pre), MEAN, STD).sequential(0, 1).images();
            assertEquals(List.of(1, pre.cropSize(), pre.cropSize(), 3), java.util.Arrays.stream(t.shape()).boxed().toList());
            ByteBuffer bb = ByteBuffer.allocate(4 * t.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < t.size(); i++) bb.putFloat(t.data()[i]);
            assertEquals(Json.getString(c, "tensor_sha256", "f"), sha256(bb.array()), what + " normalised tensor");
        }
    }

    @Test
    void forModelIsTheDeitTransform() {
        Preprocess p = Preprocess.forModel(Configs.byName("deit_tiny"));
        assertEquals(new Preprocess(256, 224, Resize.Filter.BICUBIC), p);
        assertEquals(248, Preprocess.of(224, 0.9, Resize.Filter.BICUBIC).resizeTo());
        assertThrows(IllegalArgumentException.class, () -> Preprocess.of(224, 1.2, Resize.Filter.BICUBIC));
        assertThrows(IllegalArgumentException.class, () -> new Preprocess(100, 224, Resize.Filter.BICUBIC));
    }

    @Test
    void shorterSideAndCentreCropFollowTorchvision() {
        RgbImage wide = Preprocess.resizeShorterSide(formulaImage(333, 251), 256, Resize.Filter.BILINEAR);
        assertEquals(339, wide.width()); // int(256 * 333 / 251) = int(339.6)
        assertEquals(256, wide.height());
        RgbImage tall = Preprocess.resizeShorterSide(formulaImage(30, 31), 16, Resize.Filter.BILINEAR);
        assertEquals(16, tall.width());
        assertEquals(16, tall.height()); // int(16 * 31 / 30) = int(16.53)
        // (5 - 2) / 2 = 1.5 rounds to 2 and (4 - 2) / 2 = 1: offsets as Python's round gives them.
        RgbImage src = formulaImage(5, 4);
        RgbImage crop = Preprocess.centerCrop(src, 2);
        assertEquals(src.get(2, 1, 0), crop.get(0, 0, 0));
        assertEquals(src.get(3, 2, 2), crop.get(1, 1, 2));
        RgbImage odd = Preprocess.centerCrop(formulaImage(6, 6), 1); // 2.5 rounds to 2 (half to even)
        assertEquals(formulaImage(6, 6).get(2, 2, 1), odd.get(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Preprocess.centerCrop(src, 5));
    }

    @Test
    void grayPngIsReplicatedToRgbWithoutGammaChange() throws IOException {
        BufferedImage g = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(1, 1, 0, 128);
        Path f = dir.resolve("gray.png");
        ImageIO.write(g, "png", f.toFile());
        RgbImage rgb = ImageInput.readRgb(f);
        for (int c = 0; c < 3; c++) assertEquals(128, rgb.get(1, 1, c), "channel " + c);
        assertEquals(0, rgb.get(0, 0, 0));
    }
}
