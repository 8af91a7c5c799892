package dev.shiftaddvit;

import dev.shiftaddvit.data.Preprocess;
import dev.shiftaddvit.data.Resize;

import java.util.Objects;

/**
 * How {@link ImageClassifier} turns an image file into model input, as {@code predict}'s flags do: RGB
 * models see the DeiT evaluation transform (shorter side to floor(size / cropPct), centre crop) with
 * this interpolation; grayscale models see the whole image resized, inverted when {@code invert}
 * (dark object on a light background).
 *
 * @param cropPct       in (0, 1]; 0.875 is DeiT's and timm's default, 1.0 keeps the whole shorter side
 * @param interpolation the resize filter (RGB only)
 * @param invert        invert the gray values (grayscale only)
 */
public record ImagePreprocessing(double cropPct, Resize.Filter interpolation, boolean invert) {
    /** The DeiT evaluation transform: crop fraction 0.875, bicubic, no inversion. */
    public static final ImagePreprocessing DEFAULT =
            new ImagePreprocessing(Preprocess.DEFAULT_CROP_PCT, Resize.Filter.BICUBIC, false);

    /**
     * Checks the crop fraction and the filter.
     *
     * @throws IllegalArgumentException when {@code cropPct} is not in (0, 1] (NaN included)
     * @throws NullPointerException     when {@code interpolation} is null
     */
    public ImagePreprocessing {
        if (!(cropPct > 0 && cropPct <= 1)) throw new IllegalArgumentException("crop fraction " + cropPct + " not in (0, 1]");
        Objects.requireNonNull(interpolation, "interpolation");
    }

    /** The RGB transform for a model input of {@code size} pixels. */
    Preprocess rgb(int size) {
        return Preprocess.of(size, cropPct, interpolation);
    }
}
