package dev.shiftaddvit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ImageNetLabelsTest {
    @Test
    void thousandNamesInClassIndexOrder() {
        List<String> n = ImageNetLabels.names();
        assertEquals(1000, n.size());
        assertEquals("tench", n.get(0));
        assertEquals("great white shark", n.get(2));
        assertEquals("tabby", n.get(281));
        assertEquals("toilet tissue", n.get(999));
    }
}
