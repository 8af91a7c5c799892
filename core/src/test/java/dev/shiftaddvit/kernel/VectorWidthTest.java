package dev.shiftaddvit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.VectorShape;
import org.junit.jupiter.api.Test;

/** The engine's width comes from shiftaddvit.vector.bits when it is set, and bad values are named. */
class VectorWidthTest {
    @Test
    void widthFollowsThePropertyWhenSetElseThePreferredShape() {
        String bits = System.getProperty(VectorWidth.PROPERTY);
        int expected = bits == null ? VectorShape.preferredShape().vectorBitSize() : Integer.parseInt(bits.strip());
        assertEquals(expected, VectorWidth.BITS);
        assertEquals(expected, VectorWidth.FLOAT.vectorBitSize());
        assertEquals(VectorWidth.FLOAT.length(), VectorWidth.INT.length());
        assertEquals(VectorWidth.FLOAT.length(), 2 * VectorWidth.DOUBLE.length());
        assertTrue(VectorWidth.describe().startsWith(expected + "-bit vectors"), VectorWidth.describe());
    }

    @Test
    void everySupportedWidthMapsToItsShape() {
        assertEquals(VectorShape.S_128_BIT, VectorWidth.shapeFor("128"));
        assertEquals(VectorShape.S_256_BIT, VectorWidth.shapeFor(" 256 "));
        assertEquals(VectorShape.S_512_BIT, VectorWidth.shapeFor("512"));
        assertEquals(VectorShape.preferredShape(), VectorWidth.shapeFor(null));
        assertEquals(VectorShape.preferredShape(), VectorWidth.shapeFor(""));
    }

    @Test
    void otherValuesAreRejectedNamingTheProperty() {
        for (String bad : new String[]{"64", "1024", "max", "256bits"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.shapeFor(bad));
            assertTrue(e.getMessage().contains("shiftaddvit.vector.bits") && e.getMessage().contains("'" + bad + "'"),
                    e.getMessage());
        }
    }
}
