package dev.shiftaddvit.onnx;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ProtobufTest {
    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) out[i] = (byte) b[i];
        return out;
    }

    @Test
    void varintEdgeCases() {
        assertArrayEquals(bytes(0x00), Protobuf.encodeVarint(0));
        assertArrayEquals(bytes(0x01), Protobuf.encodeVarint(1));
        assertArrayEquals(bytes(0x7F), Protobuf.encodeVarint(127));
        assertArrayEquals(bytes(0x80, 0x01), Protobuf.encodeVarint(128));
        assertArrayEquals(bytes(0xAC, 0x02), Protobuf.encodeVarint(300));
        assertArrayEquals(bytes(0xFF, 0x7F), Protobuf.encodeVarint(16383));
        assertArrayEquals(bytes(0x80, 0x80, 0x01), Protobuf.encodeVarint(16384));
        assertArrayEquals(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0x07), Protobuf.encodeVarint(Integer.MAX_VALUE));
        assertArrayEquals(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F),
                Protobuf.encodeVarint(Long.MAX_VALUE));
        // Negative int64 values are sign-extended to 64 bits: always ten bytes.
        assertArrayEquals(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), Protobuf.encodeVarint(-1));
        assertArrayEquals(bytes(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
                Protobuf.encodeVarint(Long.MIN_VALUE));
    }

    @Test
    void fieldEncodingsMatchHandComputedBytes() {
        // Tag = field << 3 | wire type: 1<<3|0 = 0x08, 2<<3|2 = 0x12, 2<<3|5 = 0x15, 3<<3|2 = 0x1A.
        assertArrayEquals(bytes(0x08, 0x96, 0x01), new Protobuf().varint(1, 150).toByteArray());
        assertArrayEquals(bytes(0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'),
                new Protobuf().string(2, "testing").toByteArray());
        assertArrayEquals(bytes(0x15, 0x00, 0x00, 0x80, 0x3F), new Protobuf().float32(2, 1f).toByteArray());
        assertArrayEquals(bytes(0x15, 0x00, 0x00, 0x00, 0xC0), new Protobuf().float32(2, -2f).toByteArray());
        Protobuf inner = new Protobuf().varint(1, 150);
        assertArrayEquals(bytes(0x1A, 0x03, 0x08, 0x96, 0x01), new Protobuf().message(3, inner).toByteArray());
        // Field 20 needs a two-byte tag: 20<<3 = 160 = 0xA0 0x01.
        assertArrayEquals(bytes(0xA0, 0x01, 0x07), new Protobuf().varint(20, 7).toByteArray());
        // Repeated int64 unpacked: one tag per element.
        assertArrayEquals(bytes(0x40, 0x00, 0x40, 0x02, 0x40, 0x01), new Protobuf().varints(8, 0, 2, 1).toByteArray());
        assertArrayEquals(bytes(0x0A, 0x00), new Protobuf().string(1, "").toByteArray());
    }

    @Test
    void attributeMatchesHandComputedBytes() {
        // AttributeProto{name=1: "perm", type=20: INTS(7), ints=8: 0, 2, 1}
        assertArrayEquals(bytes(0x0A, 0x04, 'p', 'e', 'r', 'm', 0xA0, 0x01, 0x07, 0x40, 0x00, 0x40, 0x02, 0x40, 0x01),
                OnnxGraph.intsAttr("perm", 0, 2, 1).toByteArray());
    }

    @Test
    void largeBytesAreReferencedInFieldOrder() {
        byte[] big = new byte[10_000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        Protobuf inner = new Protobuf().varint(1, 5).bytes(9, big).varint(2, 1);
        Protobuf outer = new Protobuf().string(1, "x").message(2, inner).varint(3, 7);
        byte[] out = outer.toByteArray();
        assertEquals(outer.size(), out.length);
        // 10 000 = 0x2710 → varint 0x90 0x4E; inner = 2 + 3 + 10 000 + 2 = 10 007 → 0x97 0x4E.
        byte[] head = bytes(0x0A, 0x01, 'x', 0x12, 0x97, 0x4E, 0x08, 0x05, 0x4A, 0x90, 0x4E);
        for (int i = 0; i < head.length; i++) assertEquals(head[i], out[i], "byte " + i);
        for (int i = 0; i < big.length; i++) assertEquals(big[i], out[head.length + i]);
        int tail = head.length + big.length;
        assertArrayEquals(bytes(0x10, 0x01, 0x18, 0x07), java.util.Arrays.copyOfRange(out, tail, out.length));
    }

    @Test
    void embeddedMessageIsFrozenAndFieldNumbersChecked() {
        Protobuf inner = new Protobuf().varint(1, 1);
        new Protobuf().message(1, inner);
        assertThrows(IllegalStateException.class, () -> inner.varint(2, 2));
        assertThrows(IllegalArgumentException.class, () -> new Protobuf().varint(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new Protobuf().varint(1 << 29, 1));
    }
}
