package dev.shiftaddvit.data;

import dev.shiftaddvit.io.InvalidInputException;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns an image file (PNG or JPEG; GIF and BMP also work) into a square grayscale float image in
 * [0, 1], the input of a Fashion-MNIST model, or into full-resolution 8-bit RGB for
 * {@link Preprocess} ({@link #readRgb}).
 *
 * <p>Steps: the declared width and height are read with an {@link ImageReader} <em>before</em> any
 * pixel is decoded and rejected above {@value #MAX_SIDE} per side or {@link #maxPixels()} pixels, so
 * that a tiny file declaring a huge canvas (a decompression bomb) costs no allocation;
 * large images are decoded subsampled (to about 8× the target size); colour becomes luminance
 * (0.299 R + 0.587 G + 0.114 B), transparent pixels are composited over white, grayscale images are
 * read from their samples (no colour-space conversion); the image is padded to a square with its
 * border colour (so the aspect ratio is kept) and area-averaged to {@code size × size}.
 *
 * <p><b>Polarity:</b> Fashion-MNIST shows light objects on a black background. A photo of an object
 * on a white background must therefore be inverted ({@code invert = true} computes {@code 1 - v});
 * {@link #readGrayAuto} inverts when the image border is bright (mean above 0.5).
 *
 * <p>Empty files, bytes that are not an image, unsupported formats, oversize images and truncated
 * or corrupt images (including ones the decoder only warns about) are rejected with an
 * {@link InvalidInputException} naming the file.
 */
public final class ImageInput {
    /** The largest accepted width or height. */
    public static final int MAX_SIDE = 16384;
    /**
     * The default largest pixel count, 40 Mpx: a 36 Mpx camera photo passes, while a PNG of under 70 bytes
     * declaring 16384x4096 (64 Mpx, about 192 MB once decoded to RGB) is refused.
     */
    public static final long DEFAULT_MAX_PIXELS = 40_000_000L;
    /** System property overriding {@link #DEFAULT_MAX_PIXELS} (a positive pixel count). */
    public static final String MAX_PIXELS_PROPERTY = "shiftaddvit.image.maxPixels";
    /** The largest accepted file. */
    public static final long MAX_FILE_BYTES = 256L << 20;

    private static final Set<String> FORMATS = Set.of("png", "jpeg", "jpg", "gif", "bmp");

    private ImageInput() {}

    /** The largest accepted pixel count: {@value #MAX_PIXELS_PROPERTY} if set, else {@link #DEFAULT_MAX_PIXELS}. */
    public static long maxPixels() {
        String v = System.getProperty(MAX_PIXELS_PROPERTY);
        if (v == null) return DEFAULT_MAX_PIXELS;
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n <= 0) {
            throw new IllegalArgumentException("-D" + MAX_PIXELS_PROPERTY + "=" + v + " is not a positive pixel count");
        }
        return n;
    }

    /** A decoded grayscale image in [0, 1], row-major. */
    public record Gray(float[] pixels, int width, int height) {}

    /**
     * Reads an image file as a {@code size × size} grayscale image in [0, 1], row-major; with
     * {@code invert} each value v becomes 1 - v (use it for dark objects on a light background).
     */
    public static float[] readGray(Path file, int size, boolean invert) {
        return decodeGray(readBytes(file), file.toString(), size, invert);
    }

    /** As {@link #readGray(Path, int, boolean)}, inverting when the image border is bright. */
    public static float[] readGrayAuto(Path file, int size) {
        return decodeGrayAuto(readBytes(file), file.toString(), size);
    }

    /** Decodes image bytes; {@code source} names them in messages. */
    public static float[] decodeGray(byte[] bytes, String source, int size, boolean invert) {
        Gray g = decode(bytes, source, size);
        return finish(g, size, invert);
    }

    /** Decodes image bytes, inverting when the border is bright. */
    public static float[] decodeGrayAuto(byte[] bytes, String source, int size) {
        Gray g = decode(bytes, source, size);
        return finish(g, size, borderMean(g) > 0.5f);
    }

    private static float[] finish(Gray g, int size, boolean invert) {
        float[] out = resizeSquare(g, size, borderMean(g));
        for (int i = 0; i < out.length; i++) {
            float v = Math.min(1f, Math.max(0f, out[i]));
            out[i] = invert ? 1f - v : v;
        }
        return out;
    }

    private static byte[] readBytes(Path file) {
        String source = file.toString();
        if (!Files.exists(file)) throw new InvalidInputException(source, "file not found");
        if (!Files.isRegularFile(file)) throw new InvalidInputException(source, "not a regular file");
        try {
            long n = Files.size(file);
            if (n == 0) throw new InvalidInputException(source, "empty file, not an image");
            if (n > MAX_FILE_BYTES) {
                throw new InvalidInputException(source, "file is " + n + " bytes, more than the " + MAX_FILE_BYTES
                        + "-byte limit for images");
            }
            try (InputStream in = Files.newInputStream(file)) {
                byte[] b = in.readNBytes((int) MAX_FILE_BYTES + 1);
                if (b.length > MAX_FILE_BYTES) {
                    throw new InvalidInputException(source, "file grew beyond the " + MAX_FILE_BYTES + "-byte limit");
                }
                return b;
            }
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        }
    }

    /**
     * Decodes image bytes to grayscale, checking the declared size first; images much larger than
     * {@code targetSize} are decoded subsampled (pass 0 to decode at full resolution).
     */
    public static Gray decode(byte[] bytes, String source, int targetSize) {
        return toGray(decodeImage(bytes, source, targetSize));
    }

    /**
     * Reads an image file as 8-bit RGB at full resolution (no subsampling, so that resizing matches
     * PIL), with the same checks as {@link #readGray}.
     */
    public static RgbImage readRgb(Path file) {
        return decodeRgb(readBytes(file), file.toString());
    }

    /** Decodes image bytes to 8-bit RGB; {@code source} names them in messages. */
    public static RgbImage decodeRgb(byte[] bytes, String source) {
        return toRgb(decodeImage(bytes, source, 0));
    }

    private static BufferedImage decodeImage(byte[] bytes, String source, int targetSize) {
        if (bytes.length == 0) throw new InvalidInputException(source, "empty file, not an image");
        ImageReader reader = null;
        try (ImageInputStream iis = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            String found = null;
            while (readers.hasNext()) {
                ImageReader r = readers.next();
                String format = r.getFormatName().toLowerCase(Locale.ROOT);
                if (FORMATS.contains(format)) {
                    reader = r;
                    break;
                }
                if (found == null) found = format;
                r.dispose();
            }
            if (reader == null) {
                throw new InvalidInputException(source, found == null
                        ? "not a recognised image (expected PNG or JPEG)"
                        : "unsupported image format \"" + found + "\" (expected PNG or JPEG)");
            }
            String format = reader.getFormatName().toUpperCase(Locale.ROOT);
            reader.setInput(iis, true, true);
            int w;
            int h;
            try {
                w = reader.getWidth(0);
                h = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw new InvalidInputException(source, "cannot read the " + format + " header (truncated or corrupt): "
                        + describe(e), e);
            }
            if (w <= 0 || h <= 0) {
                throw new InvalidInputException(source, "declared size " + w + "x" + h + " is empty");
            }
            long maxPixels = maxPixels();
            if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > maxPixels) {
                throw new ImageTooLargeException(source, "declared size " + w + "x" + h + " (" + (long) w * h
                        + " pixels) is too large (limits: " + MAX_SIDE + " per side, " + maxPixels + " pixels; -D"
                        + MAX_PIXELS_PROPERTY + " raises the pixel limit)");
            }
            ImageReadParam param = reader.getDefaultReadParam();
            if (targetSize > 0) {
                int step = Math.max(1, Math.max(w, h) / (8 * targetSize));
                if (step > 1) param.setSourceSubsampling(step, step, 0, 0);
            }
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((r, message) -> warnings.add(message));
            BufferedImage img;
            try {
                img = reader.read(0, param);
            } catch (IOException | RuntimeException e) {
                throw new InvalidInputException(source, "cannot decode the " + format + " image (truncated or corrupt): "
                        + describe(e), e);
            }
            if (!warnings.isEmpty()) {
                throw new InvalidInputException(source, "corrupt or truncated " + format + " image: " + warnings.getFirst());
            }
            if (img == null) throw new InvalidInputException(source, "the " + format + " decoder returned no image");
            if (format.equals("PNG")) checkPngChunks(bytes, source);
            return img;
        } catch (IOException e) {
            throw new InvalidInputException(source, "cannot read: " + e, e);
        } finally {
            if (reader != null) reader.dispose();
        }
    }

    private static String describe(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * Walks the PNG chunk list up to IEND: the decoder accepts a file cut after its last pixel
     * data, which is still a truncated file.
     */
    private static void checkPngChunks(byte[] b, String source) {
        long pos = 8;
        while (true) {
            if (pos + 8 > b.length) {
                throw new InvalidInputException(source, "truncated PNG: the file ends before the IEND chunk");
            }
            int p = (int) pos;
            long length = ((b[p] & 0xffL) << 24) | ((b[p + 1] & 0xff) << 16) | ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
            boolean iend = b[p + 4] == 'I' && b[p + 5] == 'E' && b[p + 6] == 'N' && b[p + 7] == 'D';
            pos += 12 + length;
            if (pos > b.length) {
                throw new InvalidInputException(source, "truncated PNG: a chunk runs past the end of the file");
            }
            if (iend) return;
        }
    }

    /**
     * 8-bit RGB as PIL's {@code convert("RGB")} gives it (what torchvision's ImageFolder loads):
     * gray samples are replicated without colour-space conversion, alpha is dropped (not
     * composited), palettes are expanded; samples wider than 8 bits keep their top 8 bits.
     */
    public static RgbImage toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] out = new byte[w * h * 3];
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && cm.getNumComponents() <= 2 && raster.getNumBands() == cm.getNumComponents()) {
            // getRGB would convert linear gray to sRGB and brighten it; PIL copies the samples.
            int bits = cm.getComponentSize(0);
            int max = (1 << Math.min(bits, 8)) - 1;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    byte v = (byte) (bits >= 8 ? row[x] >> (bits - 8) : row[x] * 255 / max);
                    int o = (y * w + x) * 3;
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                }
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int p = row[x];
                    int o = (y * w + x) * 3;
                    out[o] = (byte) (p >> 16);
                    out[o + 1] = (byte) (p >> 8);
                    out[o + 2] = (byte) p;
                }
            }
        }
        return new RgbImage(out, w, h);
    }

    /** Luminance in [0, 1] of every pixel, row-major; transparency is composited over white. */
    public static Gray toGray(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[w * h];
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && cm.getNumComponents() <= 2 && raster.getNumBands() == cm.getNumComponents()) {
            float scale = (float) (1.0 / ((1L << cm.getComponentSize(0)) - 1));
            boolean alpha = cm.hasAlpha();
            float alphaScale = alpha ? (float) (1.0 / ((1L << cm.getComponentSize(1)) - 1)) : 0f;
            boolean premultiplied = cm.isAlphaPremultiplied();
            int[] row = new int[w];
            int[] arow = alpha ? new int[w] : null;
            for (int y = 0; y < h; y++) {
                raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
                if (alpha) raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 1, arow);
                for (int x = 0; x < w; x++) {
                    float v = row[x] * scale;
                    if (alpha) {
                        float a = arow[x] * alphaScale;
                        v = (premultiplied ? v : v * a) + (1f - a);
                    }
                    out[y * w + x] = v;
                }
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int p = row[x];
                    float a = (p >>> 24) * (1f / 255f);
                    float luma = (0.299f * ((p >> 16) & 0xff) + 0.587f * ((p >> 8) & 0xff) + 0.114f * (p & 0xff))
                            * (1f / 255f);
                    out[y * w + x] = luma * a + (1f - a);
                }
            }
        }
        return new Gray(out, w, h);
    }

    /** Mean of the outermost rows and columns. */
    public static float borderMean(Gray g) {
        int w = g.width();
        int h = g.height();
        float[] p = g.pixels();
        double sum = 0;
        long count = 0;
        for (int x = 0; x < w; x++) {
            sum += p[x];
            count++;
            if (h > 1) {
                sum += p[(h - 1) * w + x];
                count++;
            }
        }
        for (int y = 1; y < h - 1; y++) {
            sum += p[y * w];
            count++;
            if (w > 1) {
                sum += p[y * w + w - 1];
                count++;
            }
        }
        return (float) (sum / count);
    }

    /**
     * Pads the image to a square (centred, filled with {@code background}) and area-averages it to
     * {@code size × size}.
     */
    public static float[] resizeSquare(Gray g, int size, float background) {
        if (size <= 0) throw new IllegalArgumentException("size " + size);
        int w = g.width();
        int h = g.height();
        int side = Math.max(w, h);
        int padX = (side - w) / 2;
        int padY = (side - h) / 2;
        Axis axis = new Axis(side, size);
        float[] p = g.pixels();
        // horizontal pass over the image rows: h × size
        float[] tmp = new float[h * size];
        for (int y = 0; y < h; y++) {
            for (int j = 0; j < size; j++) {
                double acc = 0;
                for (int k = axis.start[j]; k < axis.end[j]; k++) {
                    int x = k - padX;
                    float v = x >= 0 && x < w ? p[y * w + x] : background;
                    acc += axis.weight[j][k - axis.start[j]] * v;
                }
                tmp[y * size + j] = (float) acc;
            }
        }
        // vertical pass over the padded rows
        float[] out = new float[size * size];
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                double acc = 0;
                for (int k = axis.start[i]; k < axis.end[i]; k++) {
                    int y = k - padY;
                    float v = y >= 0 && y < h ? tmp[y * size + j] : background;
                    acc += axis.weight[i][k - axis.start[i]] * v;
                }
                out[i * size + j] = (float) acc;
            }
        }
        return out;
    }

    /** Box-filter weights mapping {@code src} samples onto {@code dst} samples. */
    private static final class Axis {
        final int[] start;
        final int[] end;
        final double[][] weight;

        Axis(int src, int dst) {
            start = new int[dst];
            end = new int[dst];
            weight = new double[dst][];
            double scale = (double) src / dst;
            for (int j = 0; j < dst; j++) {
                double a = j * scale;
                double b = (j + 1) * scale;
                int s = (int) Math.floor(a);
                int e = Math.min(src, (int) Math.ceil(b));
                if (e <= s) e = Math.min(src, s + 1);
                double[] wt = new double[e - s];
                double total = 0;
                for (int k = s; k < e; k++) {
                    double overlap = Math.min(b, k + 1) - Math.max(a, k);
                    wt[k - s] = Math.max(0, overlap);
                    total += wt[k - s];
                }
                if (total <= 0) {
                    wt[0] = 1;
                    total = 1;
                }
                for (int k = 0; k < wt.length; k++) wt[k] /= total;
                start[j] = s;
                end[j] = e;
                weight[j] = wt;
            }
        }
    }
}
