package dev.shiftaddvit.data;

import dev.shiftaddvit.model.ModelConfig;

import java.nio.file.Path;

/**
 * The ImageNet evaluation transform of DeiT, PVT and timm, up to the 8-bit crop: resize the
 * shorter side to {@code resizeTo} (aspect kept), then take the centre {@code cropSize} square.
 * {@link dev.shiftaddvit.data.BatchSource} and {@link dev.shiftaddvit.ImageClassifier} then divide
 * by 255 and normalise with the model's mean and std, as torchvision's ToTensor and Normalize do.
 *
 * @param resizeTo the shorter side after resizing, at least {@code cropSize}
 * @param cropSize the side of the centre crop, the model's input size
 * @param filter   the interpolation
 */
public record Preprocess(int resizeTo, int cropSize, Resize.Filter filter) {
    /** The crop fraction of the DeiT/PVT papers' code and timm's default: 224 px crops from 256 px. */
    public static final double DEFAULT_CROP_PCT = 0.875;

    public Preprocess {
        if (cropSize <= 0 || resizeTo < cropSize) {
            throw new IllegalArgumentException("resize " + resizeTo + " / crop " + cropSize
                    + ": need 0 < crop <= resize");
        }
        java.util.Objects.requireNonNull(filter, "filter");
    }

    /** timm's rule: the shorter side becomes floor(cropSize / cropPct), cropPct in (0, 1]. */
    public static Preprocess of(int cropSize, double cropPct, Resize.Filter filter) {
        if (!(cropPct > 0 && cropPct <= 1)) throw new IllegalArgumentException("crop fraction " + cropPct + " not in (0, 1]");
        return new Preprocess((int) Math.floor(cropSize / cropPct), cropSize, filter);
    }

    /** The DeiT evaluation transform at the model's input size: bicubic, crop fraction 0.875. */
    public static Preprocess forModel(ModelConfig config) {
        return of(config.imgSize(), DEFAULT_CROP_PCT, Resize.Filter.BICUBIC);
    }

    /** Decodes an image file and applies the transform. */
    public RgbImage read(Path file) {
        return apply(ImageInput.readRgb(file));
    }

    public RgbImage apply(RgbImage img) {
        return centerCrop(resizeShorterSide(img, resizeTo, filter), cropSize);
    }

    /**
     * torchvision's {@code Resize(int)}: the shorter side becomes {@code size}, the longer one
     * {@code int(size * long / short)} (truncated, as Python's int() does).
     */
    public static RgbImage resizeShorterSide(RgbImage img, int size, Resize.Filter filter) {
        int w = img.width();
        int h = img.height();
        int shorter = Math.min(w, h);
        int longer = (int) ((double) size * Math.max(w, h) / shorter);
        return w <= h ? Resize.resize(img, size, longer, filter) : Resize.resize(img, longer, size, filter);
    }

    /**
     * torchvision's {@code CenterCrop}: offsets round((side - size) / 2) with Python's round, which
     * rounds halves to even (Math.rint does the same).
     */
    public static RgbImage centerCrop(RgbImage img, int size) {
        int w = img.width();
        int h = img.height();
        if (size > w || size > h) {
            throw new IllegalArgumentException("crop " + size + " is larger than the " + w + "x" + h + " image");
        }
        int top = (int) Math.rint((h - size) / 2.0);
        int left = (int) Math.rint((w - size) / 2.0);
        byte[] out = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            System.arraycopy(img.pixels(), ((top + y) * w + left) * 3, out, y * size * 3, size * 3);
        }
        return new RgbImage(out, size, size);
    }
}
