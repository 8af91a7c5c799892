package dev.shiftaddvit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomResizedCropTest {
    private static final RandomResizedCrop CROP = new RandomResizedCrop(16, 0.08, Resize.Filter.BICUBIC);

    @Test
    void boxesLieInsideTheImageWithTheDrawnAreaAndAspect() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int[] size : new int[][]{{64, 48}, {37, 90}, {300, 200}, {16, 16}}) {
            int w = size[0];
            int h = size[1];
            for (int k = 0; k < 300; k++) {
                RandomResizedCrop.Box b = CROP.box(w, h, rng);
                assertTrue(b.x() >= 0 && b.y() >= 0 && b.x() + b.width() <= w && b.y() + b.height() <= h, b.toString());
                double area = (double) b.width() * b.height() / (w * h);
                double ratio = (double) b.width() / b.height();
                // Rounding to whole pixels moves both a little from the drawn values, most on the smallest boxes.
                assertTrue(area > 0.04 && area <= 1, b + " covers " + area);
                assertTrue(ratio > 0.6 && ratio < 1.7, b + " has aspect " + ratio);
            }
        }
    }

    @Test
    void theSameStreamGivesTheSameCropAndOthersDiffer() {
        RgbImage img = PreprocessTest.formulaImage(60, 45);
        RgbImage a = CROP.apply(img, new SplittableRandom(11));
        assertEquals(16, a.width());
        assertEquals(16, a.height());
        assertArrayEquals(a.pixels(), CROP.apply(img, new SplittableRandom(11)).pixels());
        assertFalse(Arrays.equals(a.pixels(), CROP.apply(img, new SplittableRandom(12)).pixels()));
    }

    @Test
    void tenMisfitsFallBackToTheCentreClampedToTheRatioRange() {
        // At scale 1 no 3:4..4:3 box of the whole area fits a 10:1 image; the centre 4:3 box is taken.
        RandomResizedCrop whole = new RandomResizedCrop(8, 1, Resize.Filter.BILINEAR);
        assertEquals(new RandomResizedCrop.Box(43, 0, 13, 10), whole.box(100, 10, new SplittableRandom(1)));
        assertEquals(new RandomResizedCrop.Box(0, 43, 10, 13), whole.box(10, 100, new SplittableRandom(1)));
    }

    @Test
    void aSquareImageAtItsOwnSizeAndScaleOneIsUnchanged() {
        RgbImage img = PreprocessTest.formulaImage(16, 16);
        RandomResizedCrop whole = new RandomResizedCrop(16, 1, Resize.Filter.BICUBIC);
        for (int seed = 0; seed < 20; seed++) {
            assertArrayEquals(img.pixels(), whole.apply(img, new SplittableRandom(seed)).pixels());
        }
    }

    @Test
    void scaleOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCrop(16, 0, Resize.Filter.BICUBIC));
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCrop(16, 1.5, Resize.Filter.BICUBIC));
    }
}
