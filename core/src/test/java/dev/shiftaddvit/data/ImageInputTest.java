package dev.shiftaddvit.data;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageInputTest {
    @TempDir
    Path dir;

    private static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, bos), "no writer for " + format);
        return bos.toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** Left half white, right half black, as 8-bit gray. */
    private static BufferedImage halves(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, x < w / 2 ? 255 : 0);
        }
        return img;
    }

    @Test
    void grayPngIsReadFromItsSamplesAndAreaAveraged() throws IOException {
        Path p = file("halves.png", encode(halves(56, 56), "png"));
        float[] g = ImageInput.readGray(p, 28, false);
        assertEquals(784, g.length);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) assertEquals(x < 14 ? 1f : 0f, g[y * 28 + x], 1e-6f);
        }
        float[] inv = ImageInput.readGray(p, 28, true);
        for (int k = 0; k < 784; k++) assertEquals(1f - g[k], inv[k], 1e-6f);

        BufferedImage mid = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) mid.getRaster().setSample(x, y, 0, 128);
        float[] m = ImageInput.readGray(file("mid.png", encode(mid, "png")), 28, false);
        assertEquals(128 / 255f, m[400], 1e-6f, "no colour-space conversion of gray samples");
    }

    @Test
    void colourBecomesLuminanceAndOddSizesAverage() throws IOException {
        BufferedImage img = new BufferedImage(3, 3, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 3; y++) for (int x = 0; x < 3; x++) img.setRGB(x, y, 0xff0000);
        float[] g = ImageInput.readGray(file("red.png", encode(img, "png")), 28, false);
        for (float v : g) assertEquals(0.299f, v, 1e-4f);
        BufferedImage odd = halves(57, 57);
        float[] o = ImageInput.readGray(file("odd.png", encode(odd, "png")), 28, false);
        assertEquals(1f, o[0], 1e-6f);
        assertEquals(0f, o[27], 1e-6f);
        float mean = 0;
        for (float v : o) mean += v / o.length;
        assertEquals(28f / 57f, mean, 0.01f);
    }

    @Test
    void nonSquareImagesArePaddedWithTheirBorderColour() throws IOException {
        BufferedImage img = new BufferedImage(40, 20, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g2 = img.createGraphics();
        g2.setColor(Color.WHITE);
        g2.fillRect(0, 0, 40, 20);
        g2.setColor(Color.BLACK);
        g2.fillRect(15, 5, 10, 10);
        g2.dispose();
        float[] g = ImageInput.readGray(file("wide.png", encode(img, "png")), 28, false);
        assertEquals(1f, g[0], 1e-6f, "padding takes the white border colour");
        assertEquals(0f, g[14 * 28 + 14], 1e-6f, "the dark square stays centred");
    }

    @Test
    void autoInvertsPhotosOnWhiteBackground() throws IOException {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = img.createGraphics();
        g2.setColor(Color.WHITE);
        g2.fillRect(0, 0, 64, 64);
        g2.setColor(Color.BLACK);
        g2.fillRect(16, 16, 32, 32);
        g2.dispose();
        Path p = file("photo.jpg", encode(img, "jpeg"));
        float[] auto = ImageInput.readGrayAuto(p, 28);
        assertEquals(0f, auto[0], 0.05f, "background becomes dark");
        assertEquals(1f, auto[14 * 28 + 14], 0.05f, "object becomes light");
        Path dark = file("dark.png", encode(halves(28, 28), "png"));
        float[] a = ImageInput.readGrayAuto(dark, 28);
        assertEquals(1f, a[0], 1e-6f, "border mean 0.5 is not inverted");
    }

    @Test
    void largeImagesAreDecodedSubsampled() throws IOException {
        Path p = file("big.png", encode(halves(2000, 1000), "png"));
        float[] g = ImageInput.readGray(p, 28, false);
        assertEquals(1f, g[14 * 28 + 3], 0.02f);
        assertEquals(0f, g[14 * 28 + 24], 0.02f);
    }

    @Test
    void rejectsMissingAndEmptyFiles() throws IOException {
        Path missing = dir.resolve("missing.png");
        assertInvalid(missing, "file not found", () -> ImageInput.readGray(missing, 28, false));
        Path empty = file("empty.png", new byte[0]);
        assertInvalid(empty, "empty file, not an image", () -> ImageInput.readGray(empty, 28, false));
    }

    @Test
    void rejectsNonImageBytes() throws IOException {
        Path text = file("notes.png", "this is not an image at all".getBytes());
        assertInvalid(text, "not a recognised image (expected PNG or JPEG)", () -> ImageInput.readGray(text, 28, false));
        Path zeros = file("zeros.jpg", new byte[64]);
        assertInvalid(zeros, "image", () -> ImageInput.readGray(zeros, 28, false));
    }

    @Test
    void rejectsTruncatedImages() throws IOException {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(3);
        for (int y = 0; y < 64; y++) for (int x = 0; x < 64; x++) img.setRGB(x, y, r.nextInt());
        byte[] png = encode(img, "png");
        Path half = file("half.png", Arrays.copyOf(png, png.length / 2));
        assertInvalid(half, "PNG image (truncated or corrupt)", () -> ImageInput.readGray(half, 28, false));
        Path noEnd = file("noend.png", Arrays.copyOf(png, png.length - 12));
        assertInvalid(noEnd, "truncated PNG", () -> ImageInput.readGray(noEnd, 28, false));
        byte[] jpg = encode(img, "jpeg");
        Path cut = file("cut.jpg", Arrays.copyOf(jpg, jpg.length / 2));
        assertInvalid(cut, "corrupt or truncated JPEG image", () -> ImageInput.readGray(cut, 28, false));
        Path head = file("head.jpg", Arrays.copyOf(jpg, 20));
        assertInvalid(head, "JPEG header (truncated or corrupt)", () -> ImageInput.readGray(head, 28, false));
    }

    /** A syntactically valid 8-bit gray PNG whose IHDR declares the given size, with almost no pixel data. */
    private static byte[] pngDeclaring(int w, int h) {
        return pngDeclaring(w, h, 0, new byte[0]);
    }

    private static byte[] pngDeclaring(int w, int h, int colourType, byte[] idat) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + idat.length + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) colourType)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(b, "IHDR", ihdr.array());
        chunk(b, "IDAT", idat);
        chunk(b, "IEND", new byte[0]);
        return b.array();
    }

    /** Bytes this thread allocates while {@code action} runs. */
    private static long allocatedBy(Runnable action) {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        action.run();
        return threads.getThreadAllocatedBytes(tid) - before;
    }

    private static void chunk(ByteBuffer b, String type, byte[] data) {
        b.putInt(data.length);
        byte[] t = type.getBytes();
        b.put(t).put(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        b.putInt((int) crc.getValue());
    }

    @Test
    void rejectsOversizeDeclaredDimensionsBeforeDecoding() throws IOException {
        Path wide = file("wide.png", pngDeclaring(16385, 1));
        Path huge = file("huge.png", pngDeclaring(10000, 10000));
        // Rejected from the header alone: decoding 10000x10000 would allocate hundreds of megabytes.
        long allocated = allocatedBy(() -> {
            assertInvalid(wide, "declared size 16385x1 (16385 pixels) is too large",
                    () -> ImageInput.readGray(wide, 28, false));
            assertInvalid(huge, "declared size 10000x10000 (100000000 pixels) is too large (limits: 16384 per side, "
                    + "40000000 pixels", () -> ImageInput.readGray(huge, 28, false));
        });
        assertTrue(allocated < 16L << 20, "allocated " + allocated + " bytes");
        // Its own type, so that a server can answer "too large" without reading the message.
        assertThrows(ImageTooLargeException.class, () -> ImageInput.readGray(huge, 28, false));
        Path small = file("small.png", pngDeclaring(4, 4));
        assertInvalid(small, "PNG", () -> ImageInput.readGray(small, 28, false));
    }

    @Test
    void aTinyPngDeclaring16384x4096IsRefusedBeforeItsPixelsAreAllocated() throws IOException {
        // 16384x4096 is 64 Mpx, within the per-side limit: about 192 MB as decoded RGB, from a 65-byte file.
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (DeflaterOutputStream d = new DeflaterOutputStream(z)) {
            d.write(new byte[0]);
        }
        byte[] bomb = pngDeclaring(16384, 4096, 2, z.toByteArray());
        assertTrue(bomb.length < 70, bomb.length + " bytes");
        Path p = file("bomb.png", bomb);
        long allocated = allocatedBy(() -> {
            assertInvalid(p, "declared size 16384x4096 (67108864 pixels) is too large (limits: 16384 per side, "
                    + ImageInput.DEFAULT_MAX_PIXELS + " pixels", () -> ImageInput.readRgb(p));
            assertInvalid(p, "declared size 16384x4096", () -> ImageInput.readGray(p, 28, false));
        });
        assertTrue(allocated < 16L << 20, "allocated " + allocated + " bytes");
    }

    @Test
    void thePixelLimitIsASystemProperty() throws IOException {
        Path p = file("small.png", encode(halves(20, 10), "png"));
        assertEquals(ImageInput.DEFAULT_MAX_PIXELS, ImageInput.maxPixels());
        try {
            System.setProperty(ImageInput.MAX_PIXELS_PROPERTY, "199");
            assertInvalid(p, "declared size 20x10 (200 pixels) is too large (limits: 16384 per side, 199 pixels",
                    () -> ImageInput.readRgb(p));
            System.setProperty(ImageInput.MAX_PIXELS_PROPERTY, "200");
            assertEquals(20, ImageInput.readRgb(p).width());
            System.setProperty(ImageInput.MAX_PIXELS_PROPERTY, "lots");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ImageInput::maxPixels);
            assertTrue(e.getMessage().contains("shiftaddvit.image.maxPixels=lots"), e.getMessage());
        } finally {
            System.clearProperty(ImageInput.MAX_PIXELS_PROPERTY);
        }
    }

    @Test
    void randomCorruptionGivesOnlyInvalidInput() throws IOException {
        BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(1);
        for (int y = 0; y < 30; y++) for (int x = 0; x < 40; x++) img.setRGB(x, y, r.nextInt(0x1000000));
        for (String format : new String[] {"png", "jpeg", "gif", "bmp"}) {
            byte[] good = encode(img, format);
            for (int iter = 0; iter < 150; iter++) {
                byte[] b = good.clone();
                int flips = 1 + r.nextInt(4);
                for (int k = 0; k < flips; k++) b[r.nextInt(Math.min(b.length, 300))] = (byte) r.nextInt(256);
                try {
                    float[] g = ImageInput.decodeGray(b, format + "#" + iter, 28, false);
                    assertEquals(784, g.length);
                } catch (dev.shiftaddvit.io.InvalidInputException expected) {
                    assertTrue(expected.getMessage().startsWith(format + "#" + iter + ": "));
                }
            }
        }
    }

    @Test
    void rejectsUnsupportedFormats() throws IOException {
        Path wbmp = file("x.wbmp", encode(new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_BINARY), "wbmp"));
        assertInvalid(wbmp, "unsupported image format \"wbmp\"", () -> ImageInput.readGray(wbmp, 28, false));
    }
}
