package dev.shiftaddvit.data;

import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The train-time crop of DeiT, PVT and timm (torchvision's {@code RandomResizedCrop} with aspect
 * ratios 3/4 to 4/3): a box covering a random fraction in [{@code minScale}, 1] of the image's area,
 * with a log-uniform aspect ratio, at a uniform position, resized to {@code size × size}. After ten
 * draws that do not fit, the centre of the image clamped to the ratio range is taken instead.
 *
 * @param size     the side of the output, the model's input size
 * @param minScale the smallest area fraction, in (0, 1] (0.08 in torchvision and DeiT)
 * @param filter   the interpolation of the resize
 */
public record RandomResizedCrop(int size, double minScale, Resize.Filter filter) {
    private static final double MIN_RATIO = 3.0 / 4.0;
    private static final double MAX_RATIO = 4.0 / 3.0;
    private static final int ATTEMPTS = 10;

    public RandomResizedCrop {
        if (size <= 0) throw new IllegalArgumentException("crop size " + size + " must be positive");
        if (!(minScale > 0 && minScale <= 1)) {
            throw new IllegalArgumentException("crop scale " + minScale + " not in (0, 1]");
        }
        Objects.requireNonNull(filter, "filter");
    }

    /** A crop box: left, top, width, height in pixels of the source image. */
    record Box(int x, int y, int width, int height) {}

    /** Crops and resizes {@code img} with the draws of {@code rng}. */
    public RgbImage apply(RgbImage img, SplittableRandom rng) {
        Box b = box(img.width(), img.height(), rng);
        return Resize.resize(crop(img, b), size, size, filter);
    }

    /** The box for a {@code width × height} image. */
    Box box(int width, int height, SplittableRandom rng) {
        double area = (double) width * height;
        double logMin = Math.log(MIN_RATIO);
        double logMax = Math.log(MAX_RATIO);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * (minScale + rng.nextDouble() * (1 - minScale));
            double ratio = Math.exp(logMin + rng.nextDouble() * (logMax - logMin));
            int w = (int) Math.round(Math.sqrt(target * ratio));
            int h = (int) Math.round(Math.sqrt(target / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                return new Box(rng.nextInt(width - w + 1), rng.nextInt(height - h + 1), w, h);
            }
        }
        double ratio = (double) width / height;
        int w = width;
        int h = height;
        if (ratio < MIN_RATIO) h = Math.max(1, (int) Math.round(width / MIN_RATIO));
        else if (ratio > MAX_RATIO) w = Math.max(1, (int) Math.round(height * MAX_RATIO));
        return new Box((width - w) / 2, (height - h) / 2, w, h);
    }

    private static RgbImage crop(RgbImage img, Box b) {
        if (b.x() == 0 && b.y() == 0 && b.width() == img.width() && b.height() == img.height()) return img;
        byte[] out = new byte[b.width() * b.height() * 3];
        for (int row = 0; row < b.height(); row++) {
            System.arraycopy(img.pixels(), ((b.y() + row) * img.width() + b.x()) * 3, out, row * b.width() * 3,
                    b.width() * 3);
        }
        return new RgbImage(out, b.width(), b.height());
    }
}
