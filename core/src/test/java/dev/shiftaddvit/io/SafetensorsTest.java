package dev.shiftaddvit.io;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.io.Safetensors.Entry;
import dev.shiftaddvit.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    // ------------------------------------------------------------------------------ helpers

    private static byte[] fileBytes(long headerLength, byte[] header, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header);
        for (int i = 0; i < dataBytes; i++) b.put((byte) i);
        return b.array();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** A file with the given JSON header and a data buffer of dataBytes bytes. */
    private Path withHeader(String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return write("bad.safetensors", fileBytes(h.length, h, dataBytes));
    }

    private void assertRejected(String json, int dataBytes, String fragment) throws IOException {
        Path p = withHeader(json, dataBytes);
        assertInvalid(p, fragment, () -> Safetensors.read(p).close());
    }

    private static Tensor ramp(int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = i * 0.25f - 3f;
        return t;
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    // ------------------------------------------------------------------------------ round trips

    @Test
    void roundTripsSeveralTensorsWithMetadata() throws IOException {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z.weight", ramp(3, 5));
        tensors.put("a.bias", ramp(7));
        tensors.put("scalar", Tensor.of(new float[] {Float.NaN}));
        tensors.put("empty", Tensor.zeros(0, 4));
        Tensor special = Tensor.of(new float[] {-0f, Float.POSITIVE_INFINITY, Float.MIN_VALUE, Float.MAX_VALUE}, 2, 2);
        tensors.put("special", special);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "quotes \" and \\ and ünïcödé");
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, tensors, meta);

        byte[] raw = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\""), header);
        assertEquals(header.strip(), header.substring(0, header.lastIndexOf('}') + 1), "padded with spaces only");

        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(List.of("z.weight", "a.bias", "scalar", "empty", "special"),
                    f.entries().stream().map(Entry::name).toList());
            assertEquals(meta, f.metadata());
            long offset = 0;
            for (Entry e : f.entries()) {
                assertEquals("F32", e.dtype());
                assertEquals(offset, e.begin(), "laid out in the given order");
                offset = e.end();
                Tensor expected = tensors.get(e.name());
                Tensor got = f.tensor(e.name());
                assertArrayEquals(expected.shape(), got.shape());
                for (int i = 0; i < expected.size(); i++) {
                    assertEquals(Float.floatToRawIntBits(expected.data()[i]), Float.floatToRawIntBits(got.data()[i]));
                }
            }
            assertEquals(offset, f.dataLength());
            assertTrue(f.contains("scalar"));
            assertFalse(f.contains("missing"));
            assertArrayEquals(new int[0], f.entry("scalar").shape());
            assertInvalid(p, "no tensor named \"missing\"", () -> f.tensor("missing"));
            assertInvalid(p, "expected shape [5, 3]", () -> f.tensor("z.weight", 5, 3));
        }
        LinkedHashMap<String, Tensor> all = Safetensors.readTensors(p);
        assertEquals(tensors.keySet(), all.keySet());
    }

    @Test
    void writesAndReadsRawIntegerTensorsAndConvertsHalfTypes() throws IOException {
        byte[] codes = {1, -2, 3, -4, 5, -6};
        byte[] longs = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(-7).array();
        float[] values = {1.5f, -2f, 65504f, 0.333f};
        ByteBuffer f16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bf16 = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer f64 = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            f16.putShort(Float.floatToFloat16(v));
            bf16.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            f64.putDouble(v);
        }
        Path p = dir.resolve("mixed.safetensors");
        Safetensors.writer()
                .metadata("kind", "deploy")
                .add("w", ramp(2, 3))
                .addRaw("codes", "I8", new int[] {2, 3}, codes)
                .addRaw("big", "I64", new int[] {2}, longs)
                .addRaw("mask", "BOOL", new int[] {2}, new byte[] {0, 1})
                .addRaw("h", "F16", new int[] {4}, f16.array())
                .addRaw("bf", "BF16", new int[] {2, 2}, bf16.array())
                .addRaw("d", "F64", new int[] {4}, f64.array())
                .write(p);
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(Map.of("kind", "deploy"), f.metadata());
            assertArrayEquals(codes, f.rawBytes("codes"));
            assertArrayEquals(longs, f.rawBytes("big"));
            assertEquals("I64", f.entry("big").dtype());
            assertArrayEquals(new byte[] {0, 1}, f.rawBytes("mask"));
            assertArrayEquals(ramp(2, 3).data(), f.tensor("w").data());
            float[] h = f.tensor("h").data();
            float[] bf = f.tensor("bf").data();
            float[] d = f.tensor("d").data();
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(values[i])), h[i]);
                assertEquals(Float.intBitsToFloat(Float.floatToRawIntBits(values[i]) & 0xffff0000), bf[i]);
                assertEquals(values[i], d[i]);
            }
            assertArrayEquals(new int[] {2, 2}, f.tensor("bf").shape());
            assertInvalid(p, "has dtype I8, not a float type", () -> f.tensor("codes"));
            assertEquals(6, f.segment("codes").byteSize());
        }
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.writer().addRaw("x", "I32", new int[] {3}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.writer().addRaw("x", "Q7", new int[] {1}, new byte[1]));
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.writer().add("a", ramp(1)).add("a", ramp(1)));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.writer().add("__metadata__", ramp(1)));
    }

    @Test
    void readsAHandWrittenFileInTheDocumentedLayout() throws IOException {
        // As the format documents it: header not padded, metadata after the tensors, keys in any order.
        String json = "{\"b\":{\"shape\":[2],\"dtype\":\"F32\",\"data_offsets\":[8,16]},"
                + "\"a\":{\"dtype\":\"U8\",\"shape\":[2,4],\"data_offsets\":[0,8]},\"__metadata__\":{\"format\":\"pt\"}}";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (int i = 0; i < 8; i++) b.put((byte) (200 + i));
        b.putFloat(1.25f).putFloat(-8f);
        Path p = write("hand.safetensors", b.array());
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(List.of("b", "a"), f.entries().stream().map(Entry::name).toList());
            assertArrayEquals(new float[] {1.25f, -8f}, f.tensor("b").data());
            assertEquals((byte) 207, f.rawBytes("a")[7]);
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
    }

    // ------------------------------------------------------------------------------ atomic writes

    @Test
    void failedWriteLeavesNoTargetAndNoTempFile() throws IOException {
        Path target = dir.resolve("blocked.safetensors");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep"), "x");
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", ramp(4));
        assertThrows(IOException.class, () -> Safetensors.write(target, t, null));
        assertTrue(Files.isDirectory(target));
        assertEquals("x", Files.readString(target.resolve("keep")));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void failureInsideTheBodyKeepsTheOldTargetAndDeletesTheTemp() throws IOException {
        Path target = dir.resolve("old.bin");
        Files.writeString(target, "old content");
        assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap("partial new content".getBytes(StandardCharsets.UTF_8)));
            throw new IOException("disk full (simulated)");
        }));
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap(new byte[1000]));
            throw new IllegalStateException("bug (simulated)");
        }));
        assertEquals("old content", Files.readString(target));
        assertEquals(List.of(), leftovers());
        Path fresh = dir.resolve("fresh.bin");
        assertThrows(IOException.class, () -> AtomicFiles.write(fresh, ch -> {
            throw new IOException("fail");
        }));
        assertFalse(Files.exists(fresh));
        assertEquals(List.of(), leftovers());
    }

    @Test
    void successfulWriteReplacesTheTarget() throws IOException {
        Path target = dir.resolve("m.safetensors");
        Files.writeString(target, "garbage");
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", ramp(4));
        Safetensors.write(target, t, Map.of());
        try (SafetensorsFile f = Safetensors.read(target)) {
            assertArrayEquals(ramp(4).data(), f.tensor("w").data());
            assertEquals(Map.of(), f.metadata());
        }
        assertEquals(List.of(), leftovers());
    }

    // ------------------------------------------------------------------------------ rejections

    @Test
    void randomCorruptionAndEveryTruncationGiveOnlyInvalidInput() throws IOException {
        Path good = dir.resolve("good.safetensors");
        Safetensors.writer().metadata("k", "v").add("a", ramp(3, 2)).addRaw("b", "I16", new int[] {2}, new byte[4])
                .add("c", ramp(5)).write(good);
        byte[] bytes = Files.readAllBytes(good);
        java.util.Random rnd = new java.util.Random(42);
        Path p = dir.resolve("fuzz.safetensors");
        for (int iter = 0; iter < 400 + bytes.length; iter++) {
            byte[] b;
            if (iter < bytes.length) {
                b = java.util.Arrays.copyOf(bytes, iter);
            } else {
                b = bytes.clone();
                int flips = 1 + rnd.nextInt(3);
                for (int k = 0; k < flips; k++) {
                    int at = rnd.nextInt(Math.min(b.length, 8 + 200));
                    b[at] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : "{}[]\",:0123456789-e. ".charAt(rnd.nextInt(20)));
                }
            }
            Files.write(p, b);
            try (SafetensorsFile f = Safetensors.read(p)) {
                for (Entry e : f.entries()) {
                    if (Safetensors.Dtype.byName(e.dtype()).isFloatConvertible()) f.tensor(e.name());
                    else f.rawBytes(e.name());
                }
            } catch (InvalidInputException expected) {
                assertTrue(expected.getMessage().startsWith(p + ": "));
            }
        }
    }

    @Test
    void rejectsFilesShorterThanEightBytes() throws IOException {
        Path p = write("short.safetensors", new byte[] {1, 2, 3, 4, 5});
        assertInvalid(p, "5 bytes long, shorter than the 8-byte header length", () -> Safetensors.read(p));
        Path empty = write("empty.safetensors", new byte[0]);
        assertInvalid(empty, "0 bytes long", () -> Safetensors.read(empty));
    }

    @Test
    void rejectsMissingFilesAndDirectories() {
        Path p = dir.resolve("nope.safetensors");
        assertInvalid(p, "file not found", () -> Safetensors.read(p));
        assertInvalid(dir, "not a regular file", () -> Safetensors.read(dir));
    }

    @Test
    void rejectsHeaderLengthBeyondTheFile() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        Path p = write("beyond.safetensors", fileBytes(1000, h, 0));
        assertInvalid(p, "header length 1000 goes beyond the end of the file (2 bytes", () -> Safetensors.read(p));
    }

    @Test
    void rejectsAbsurdHeaderLengths() throws IOException {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        Path p = write("absurd.safetensors", fileBytes(200_000_000L, h, 0));
        assertInvalid(p, "header length 200000000 is absurd", () -> Safetensors.read(p));
        Path q = write("negative.safetensors", fileBytes(-1L, h, 0));
        assertInvalid(q, "header length 18446744073709551615 is absurd", () -> Safetensors.read(q));
    }

    @Test
    void rejectsHeadersThatAreNotUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'};
        Path p = write("utf.safetensors", fileBytes(h.length, h, 0));
        assertInvalid(p, "header is not valid UTF-8 (bad byte at header offset 2)", () -> Safetensors.read(p));
    }

    @Test
    void rejectsHeadersThatAreNotJsonOrNotObjects() throws IOException {
        assertRejected("{\"a\": ", 0, "header is not valid JSON (invalid JSON at offset 6");
        assertRejected("[1, 2]", 0, "header is not a JSON object but a JSON array");
        assertRejected("{} xx", 0, "header is not valid JSON (invalid JSON at offset 3: trailing characters");
        assertRejected("", 0, "header is not valid JSON");
        assertRejected("[".repeat(100) + "]".repeat(100), 0, "nesting deeper than 64");
    }

    @Test
    void acceptsSpacePaddingAndAnEmptyHeader() throws IOException {
        Path p = withHeader("{}      ", 0);
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(List.of(), f.entries());
        }
    }

    @Test
    void rejectsUnknownDtypes() throws IOException {
        assertRejected("{\"w\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                "tensor \"w\": unknown dtype \"F17\"");
        assertRejected("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype \"f32\"");
        assertRejected("{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype must be a string");
    }

    @Test
    void rejectsBadShapes() throws IOException {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}}", 4,
                "tensor \"w\": shape [2,-1] has a negative dimension -1");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}", 4,
                "tensor \"w\": element count of shape [2147483647, 2147483647, 2147483647] overflows");
        assertRejected("{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,4],\"data_offsets\":[0,4]}}", 4,
                "overflows");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "non-integer dimension 1.5");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}}", 4, "larger than 2^31-1");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,4]}}", 4, "shape must be an array");
    }

    @Test
    void acceptsZeroSizedTensorsEvenWithHugeOtherDimensions() throws IOException {
        Path p = withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647,0],\"data_offsets\":[0,0]},"
                + "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        try (SafetensorsFile f = Safetensors.read(p)) {
            assertEquals(0, f.entry("w").elementCount());
        }
    }

    @Test
    void rejectsBadDataOffsets() throws IOException {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
                "tensor \"w\": data_offsets must be two integers [begin, end], found [0]");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "must be two integers");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}", 4, "must be two integers");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", 4, "must be two integers");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{}}}", 4, "must be two integers");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "negative data_offsets");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
                "data_offsets [4, 0] have begin > end");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                "data_offsets [0, 8] end beyond the data buffer (4 bytes)");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,9223372036854775807]}}", 4,
                "end beyond the data buffer");
    }

    @Test
    void rejectsByteLengthsThatDoNotMatchTheShape() throws IOException {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12,
                "tensor \"w\": data_offsets [0, 12] hold 12 bytes but shape [2, 2] of F32 needs 16 bytes");
        assertRejected("{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,1]}}", 1, "not a whole number of bytes");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                "tensor \"b\" [4, 12) overlaps tensor \"a\" [0, 8)");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "overlaps");
    }

    @Test
    void rejectsHolesInTheDataBuffer() throws IOException {
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
                "hole in the data buffer: bytes [4, 8) are not covered by any tensor");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 10,
                "hole in the data buffer: bytes [4, 10) at its end");
        assertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "bytes [0, 4)");
    }

    @Test
    void rejectsBadMetadata() throws IOException {
        assertRejected("{\"__metadata__\":\"x\"}", 0, "__metadata__ must be an object mapping strings to strings");
        assertRejected("{\"__metadata__\":{\"epochs\":10}}", 0, "__metadata__ must map strings to strings, but \"epochs\" holds a JSON number");
        assertRejected("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", 0, "holds a JSON object");
    }

    @Test
    void rejectsDuplicateNames() throws IOException {
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate key \"w\"");
    }

    @Test
    void rejectsIncompleteOrMistypedEntries() throws IOException {
        assertRejected("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor \"w\": missing \"dtype\"");
        assertRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "missing \"data_offsets\"");
        assertRejected("{\"w\":[1,2]}", 4, "tensor \"w\": expected an object");
    }
}
