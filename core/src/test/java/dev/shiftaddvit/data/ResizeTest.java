package dev.shiftaddvit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Resize against Pillow 12.3 outputs written by scripts/make_resize_fixtures.py. */
class ResizeTest {
    static Path fixture(String name) {
        try {
            return Path.of(ResizeTest.class.getResource("resize/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("missing fixture resize/" + name + "; run scripts/make_resize_fixtures.py", e);
        }
    }

    static int maxAbsDiff(RgbImage a, RgbImage b) {
        assertEquals(a.width(), b.width(), "width");
        assertEquals(a.height(), b.height(), "height");
        int max = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            max = Math.max(max, Math.abs((a.pixels()[i] & 0xff) - (b.pixels()[i] & 0xff)));
        }
        return max;
    }

    @ParameterizedTest
    @CsvSource({"bilinear,16,16", "bilinear,50,40", "bilinear,37,12", "bilinear,9,23", "bilinear,3,2",
            "bicubic,16,16", "bicubic,50,40", "bicubic,37,12", "bicubic,9,23", "bicubic,3,2"})
    void matchesPillowExactly(String filter, int w, int h) {
        RgbImage src = ImageInput.readRgb(fixture("src_37x23.png"));
        RgbImage expected = ImageInput.readRgb(fixture(filter + "_" + w + "x" + h + ".png"));
        RgbImage got = Resize.resize(src, w, h, Resize.Filter.parse(filter.toUpperCase(Locale.ROOT)));
        assertEquals(0, maxAbsDiff(got, expected), "max |Java - Pillow| in 8-bit levels");
    }

    @Test
    void sameSizeIsACopy() {
        RgbImage src = ImageInput.readRgb(fixture("src_37x23.png"));
        RgbImage same = Resize.resize(src, 37, 23, Resize.Filter.BICUBIC);
        assertArrayEquals(src.pixels(), same.pixels());
        assertEquals(false, src.pixels() == same.pixels(), "the result does not alias its input");
    }

    @Test
    void constantImageStaysConstantThroughBicubicOvershoot() {
        byte[] px = new byte[20 * 10 * 3];
        java.util.Arrays.fill(px, (byte) 200);
        RgbImage out = Resize.resize(new RgbImage(px, 20, 10), 7, 31, Resize.Filter.BICUBIC);
        for (byte b : out.pixels()) assertEquals(200, b & 0xff);
    }

    @Test
    void unknownFilterAndEmptyTargetAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Resize.Filter.parse("lanczos"));
        RgbImage src = new RgbImage(new byte[12], 2, 2);
        assertThrows(IllegalArgumentException.class, () -> Resize.resize(src, 0, 2, Resize.Filter.BILINEAR));
    }

    static byte[] readResource(String name) throws IOException {
        try (InputStream in = ResizeTest.class.getResourceAsStream("resize/" + name)) {
            if (in == null) throw new AssertionError("missing fixture resize/" + name);
            return in.readAllBytes();
        }
    }
}
