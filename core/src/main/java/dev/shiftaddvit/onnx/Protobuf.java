package dev.shiftaddvit.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A protobuf message under construction, written in the wire format: each field is a varint tag
 * (field number · 8 + wire type) followed by a varint, a little-endian fixed32, or a varint length
 * and that many bytes. Fields are appended in call order. Large byte fields and embedded messages
 * are kept by reference rather than copied, so a model's weights are copied once (into raw_data
 * bytes) on the way to the file. A message is frozen once embedded, since its length is then fixed
 * in the parent.
 */
public final class Protobuf {
    private static final int VARINT = 0;
    private static final int LENGTH_DELIMITED = 2;
    private static final int FIXED32 = 5;
    /** Byte fields at least this long are kept by reference instead of being copied into the buffer. */
    private static final int INLINE_LIMIT = 4096;

    /** Encoded chunks in order: byte[] or an embedded Protobuf. */
    private final List<Object> parts = new ArrayList<>();
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long size;
    private boolean frozen;

    /** A varint field (int32, int64, enum, bool); negative values take ten bytes, as protobuf writes them. */
    public Protobuf varint(int field, long value) {
        tag(field, VARINT);
        writeVarint(value);
        return this;
    }

    /** A repeated varint field, unpacked (one tag per element) as proto2 declares ONNX's dims and ints. */
    public Protobuf varints(int field, long... values) {
        for (long v : values) varint(field, v);
        return this;
    }

    /** A float field: fixed32, IEEE 754 little-endian. */
    public Protobuf float32(int field, float value) {
        tag(field, FIXED32);
        int bits = Float.floatToRawIntBits(value);
        for (int i = 0; i < 4; i++) writeByte(bits >>> (8 * i));
        return this;
    }

    public Protobuf string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    /** A bytes field; the array is referenced, not copied, and must not change before the message is written. */
    public Protobuf bytes(int field, byte[] value) {
        tag(field, LENGTH_DELIMITED);
        writeVarint(value.length);
        if (value.length < INLINE_LIMIT) {
            pending.writeBytes(value);
            size += value.length;
        } else {
            flush();
            parts.add(value);
            size += value.length;
        }
        return this;
    }

    /** An embedded message, which must be complete: it is frozen and referenced. */
    public Protobuf message(int field, Protobuf value) {
        if (value == this) throw new IllegalArgumentException("a message cannot contain itself");
        value.freeze();
        tag(field, LENGTH_DELIMITED);
        writeVarint(value.size);
        flush();
        parts.add(value);
        size += value.size;
        return this;
    }

    /** The encoded length in bytes. */
    public long size() {
        return size;
    }

    public void writeTo(OutputStream out) throws IOException {
        for (Object p : parts) {
            if (p instanceof byte[] b) out.write(b);
            else ((Protobuf) p).writeTo(out);
        }
        pending.writeTo(out);
    }

    /** The whole encoding as one array (messages under 2 GiB). */
    public byte[] toByteArray() {
        if (size > Integer.MAX_VALUE - 16) {
            throw new IllegalStateException("message of " + size + " bytes exceeds an array");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) size);
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The varint encoding of a value: 7 bits a byte, least significant first, high bit set on all but the last. */
    public static byte[] encodeVarint(long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(10);
        long v = value;
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    private void freeze() {
        frozen = true;
    }

    private void tag(int field, int wireType) {
        if (frozen) throw new IllegalStateException("message already embedded in another; its length is fixed");
        if (field < 1 || field > (1 << 29) - 1) {
            throw new IllegalArgumentException("field number out of range: " + field);
        }
        writeVarint(((long) field << 3) | wireType);
    }

    private void writeVarint(long value) {
        byte[] b = encodeVarint(value);
        pending.writeBytes(b);
        size += b.length;
    }

    private void writeByte(int b) {
        pending.write(b);
        size++;
    }

    /** Moves the pending small fields into the parts list, keeping the order of fields. */
    private void flush() {
        if (pending.size() > 0) {
            parts.add(pending.toByteArray());
            pending.reset();
        }
    }
}
