package dev.shiftaddvit.data;

import java.util.Objects;

/**
 * An 8-bit RGB image: row-major, three interleaved bytes per pixel (R, G, B), as PIL's "RGB" mode.
 * The array is shared, not copied.
 */
public record RgbImage(byte[] pixels, int width, int height) {
    public RgbImage {
        Objects.requireNonNull(pixels, "pixels");
        if (width <= 0 || height <= 0 || (long) width * height * 3 != pixels.length) {
            throw new IllegalArgumentException(pixels.length + " bytes do not make a " + width + "x" + height + " RGB image");
        }
    }

    /** Channel c (0 = R, 1 = G, 2 = B) of pixel (x, y), in [0, 255]. */
    public int get(int x, int y, int c) {
        Objects.checkIndex(x, width);
        Objects.checkIndex(y, height);
        Objects.checkIndex(c, 3);
        return pixels[(y * width + x) * 3 + c] & 0xff;
    }

    /** The samples divided by 255, HWC, as torchvision's ToTensor and {@code BatchSource} compute them. */
    public float[] toUnit() {
        float[] out = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) out[i] = (pixels[i] & 0xff) / 255f;
        return out;
    }
}
