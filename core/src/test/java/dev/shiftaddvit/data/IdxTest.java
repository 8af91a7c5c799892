package dev.shiftaddvit.data;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shiftaddvit.io.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + 7);
        return b;
    }

    /** A raw IDX header (magic, dims) followed by the given data bytes. */
    private static byte[] rawIdx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(raw);
        }
        return bos.toByteArray();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    // ------------------------------------------------------------------------------ round trips

    @Test
    void roundTripsRawAndGzipImagesAndLabels() throws IOException {
        byte[] px = pattern(5 * 4 * 3);
        byte[] lb = {0, 9, 3, 3, 1};
        for (boolean gz : new boolean[] {false, true}) {
            Path images = dir.resolve("img" + gz);
            Path labels = dir.resolve("lab" + gz);
            Idx.write(images, new int[] {5, 4, 3}, px, gz);
            Idx.write(labels, new int[] {5}, lb, gz);
            byte[] head = Arrays.copyOf(Files.readAllBytes(images), 2);
            assertEquals(gz, head[0] == 0x1f && head[1] == (byte) 0x8b, "gzip magic present iff compressed");
            Idx.IdxData d = Idx.readImages(images);
            assertArrayEquals(new int[] {5, 4, 3}, d.dims());
            assertArrayEquals(px, d.data());
            assertEquals(5, d.count());
            assertArrayEquals(lb, Idx.readLabels(labels, 10));
            assertEquals(List.of(), tempFiles());
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("imgfalse")), Idx.encode(new int[] {5, 4, 3}, px, false));
        // gzip detected by content, not name: a gzip file named like a raw one and vice versa
        Path misnamed = file("data.gz", Idx.encode(new int[] {5}, lb, false));
        assertArrayEquals(lb, Idx.readLabels(misnamed, 10));
        Idx.IdxData fromStream = Idx.read(new ByteArrayInputStream(Idx.encode(new int[] {5, 4, 3}, px, true)), "stream", 3,
                Idx.MAX_DATA_BYTES);
        assertArrayEquals(px, fromStream.data());
    }

    @Test
    void writerRejectsInconsistentArguments() {
        assertThrows(IllegalArgumentException.class, () -> Idx.write(dir.resolve("x"), new int[] {2, 2}, new byte[3], false));
        assertThrows(IllegalArgumentException.class, () -> Idx.encode(new int[] {0}, new byte[0], false));
    }

    private List<Path> tempFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    // ------------------------------------------------------------------------------ rejections

    @Test
    void rejectsMissingAndEmptyFiles() throws IOException {
        Path missing = dir.resolve("missing-idx3-ubyte");
        assertInvalid(missing, "file not found", () -> Idx.readImages(missing));
        Path empty = file("empty", new byte[0]);
        assertInvalid(empty, "empty file", () -> Idx.readImages(empty));
    }

    @Test
    void rejectsBadMagic() throws IOException {
        Path p = file("magic", rawIdx(0x12340803, new int[] {1, 1, 1}, new byte[1]));
        assertInvalid(p, "bad magic 0x12340803: not an IDX file", () -> Idx.readImages(p));
        Path text = file("text", "hello, world".getBytes());
        assertInvalid(text, "bad magic", () -> Idx.readImages(text));
    }

    @Test
    void rejectsOtherElementTypes() throws IOException {
        Path p = file("float", rawIdx(0x00000D03, new int[] {1, 1, 1}, new byte[4]));
        assertInvalid(p, "element type 0x0d (float); only unsigned byte (0x08) is supported", () -> Idx.readImages(p));
        Path q = file("weird", rawIdx(0x00007703, new int[] {1, 1, 1}, new byte[1]));
        assertInvalid(q, "element type 0x77 (not an IDX type)", () -> Idx.readImages(q));
    }

    @Test
    void rejectsWrongRank() throws IOException {
        Path p = file("rank2", rawIdx(0x00000802, new int[] {2, 2}, new byte[4]));
        assertInvalid(p, "declares rank 2 but rank 3 is required", () -> Idx.readImages(p));
        assertInvalid(p, "declares rank 2 but rank 1 is required", () -> Idx.readLabels(p, 10));
        Path zero = file("rank0", rawIdx(0x00000800, new int[0], new byte[1]));
        assertInvalid(zero, "declares rank 0; ranks 1..8 are supported", () -> Idx.read(zero));
        Path big = file("rank9", rawIdx(0x00000809, new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, new byte[1]));
        assertInvalid(big, "rank 9", () -> Idx.read(big));
    }

    @Test
    void rejectsNonPositiveDimensions() throws IOException {
        Path p = file("zero", rawIdx(0x00000803, new int[] {3, 0, 28}, new byte[0]));
        assertInvalid(p, "dimension 1 is 0; dimensions must be positive", () -> Idx.readImages(p));
        Path q = file("neg", rawIdx(0x00000803, new int[] {-1, 28, 28}, new byte[0]));
        assertInvalid(q, "dimension 0 is 4294967295 (negative as int32)", () -> Idx.readImages(q));
    }

    @Test
    void rejectsSizesOverflowingOrBeyondTheCap() throws IOException {
        Path p = file("overflow", rawIdx(0x00000803, new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE},
                new byte[0]));
        assertInvalid(p, "declare more than 2^63 bytes of data, more than the limit", () -> Idx.readImages(p));
        Path q = file("huge", rawIdx(0x00000803, new int[] {60000, 28000, 28}, new byte[0]));
        assertInvalid(q, "declare 47040000000 bytes of data, more than the limit of 2147483631 bytes",
                () -> Idx.readImages(q));
        Path r = file("capped", rawIdx(0x00000803, new int[] {2, 28, 28}, new byte[2 * 784]));
        assertInvalid(r, "more than the limit of 1000 bytes", () -> Idx.read(r, 3, 1000));
    }

    @Test
    void rejectsTruncatedHeaders() throws IOException {
        Path p = file("hdr", new byte[] {0, 0, 8});
        assertInvalid(p, "truncated header: the file ends inside the magic number (3 of 4 bytes)", () -> Idx.readImages(p));
        Path q = file("dims", Arrays.copyOf(rawIdx(0x00000803, new int[] {1, 2, 3}, new byte[0]), 10));
        assertInvalid(q, "ends inside the dimensions (6 of 12 bytes)", () -> Idx.readImages(q));
        Path g = file("dims.gz", gzip(Arrays.copyOf(rawIdx(0x00000803, new int[] {1, 2, 3}, new byte[0]), 10)));
        assertInvalid(g, "the decompressed data ends inside the dimensions", () -> Idx.readImages(g));
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        byte[] full = rawIdx(0x00000803, new int[] {2, 3, 3}, pattern(18));
        Path raw = file("trunc", Arrays.copyOf(full, full.length - 1));
        assertInvalid(raw, "truncated: dimensions [2, 3, 3] declare 18 data bytes but the file holds only 17",
                () -> Idx.readImages(raw));
        Path gz = file("trunc.gz", gzip(Arrays.copyOf(full, full.length - 1)));
        assertInvalid(gz, "truncated: dimensions [2, 3, 3] declare 18 data bytes but the decompressed data ends after 17",
                () -> Idx.readImages(gz));
        Idx.IdxData ok = Idx.readImages(file("ok.gz", gzip(full)));
        assertArrayEquals(pattern(18), ok.data());
    }

    @Test
    void rejectsTrailingBytes() throws IOException {
        byte[] longer = rawIdx(0x00000801, new int[] {4}, new byte[] {1, 2, 3, 4, 5});
        Path raw = file("trail", longer);
        assertInvalid(raw, "1 trailing bytes after the 4 data bytes declared by dimensions [4]", () -> Idx.readLabels(raw, 10));
        Path gz = file("trail.gz", gzip(longer));
        assertInvalid(gz, "trailing bytes in the decompressed data after the 4 data bytes", () -> Idx.readLabels(gz, 10));
    }

    @Test
    void rejectsLabelsOutOfRangeWhenAsked() throws IOException {
        Path p = file("labels", rawIdx(0x00000801, new int[] {3}, new byte[] {1, 12, 3}));
        assertInvalid(p, "label 12 at index 1 is outside [0, 10)", () -> Idx.readLabels(p, 10));
        assertArrayEquals(new byte[] {1, 12, 3}, Idx.readLabels(p, 0));
        Path q = file("labels255", rawIdx(0x00000801, new int[] {1}, new byte[] {(byte) 255}));
        assertInvalid(q, "label 255 at index 0", () -> Idx.readLabels(q, 10));
    }

    @Test
    void rejectsCorruptGzip() throws IOException {
        byte[] gz = gzip(rawIdx(0x00000803, new int[] {4, 28, 28}, pattern(4 * 784)));
        Path cut = file("cut.gz", Arrays.copyOf(gz, gz.length / 2));
        assertInvalid(cut, "corrupt or truncated gzip data", () -> Idx.readImages(cut));
        byte[] flipped = gz.clone();
        for (int i = 20; i < 40; i++) flipped[i] ^= (byte) 0x5a;
        Path bad = file("bad.gz", flipped);
        assertInvalid(bad, "gzip", () -> Idx.readImages(bad));
        byte[] badCrc = gz.clone();
        badCrc[badCrc.length - 6] ^= 1; // CRC32 in the trailer
        Path crc = file("crc.gz", badCrc);
        assertInvalid(crc, "corrupt or truncated gzip data: gzip CRC-32 mismatch", () -> Idx.readImages(crc));
        byte[] badLen = gz.clone();
        badLen[badLen.length - 2] ^= 1; // ISIZE in the trailer
        Path len = file("len.gz", badLen);
        assertInvalid(len, "gzip length mismatch", () -> Idx.readImages(len));
        byte[] method = gz.clone();
        method[2] = 7;
        Path m = file("method.gz", method);
        assertInvalid(m, "unsupported gzip compression method 7", () -> Idx.readImages(m));
        Path header = file("hdr.gz", new byte[] {0x1f, (byte) 0x8b, 8});
        assertInvalid(header, "gzip", () -> Idx.readImages(header));
    }

    @Test
    void randomCorruptionAndEveryTruncationGiveOnlyInvalidInput() throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            byte[] bytes = Idx.encode(new int[] {3, 5, 4}, pattern(60), gz);
            java.util.Random rnd = new java.util.Random(7);
            Path p = dir.resolve("fuzz");
            for (int iter = 0; iter < 300 + bytes.length; iter++) {
                byte[] b;
                if (iter < bytes.length) {
                    b = Arrays.copyOf(bytes, iter);
                } else {
                    b = bytes.clone();
                    b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                }
                Files.write(p, b);
                try {
                    Idx.readImages(p);
                } catch (InvalidInputException expected) {
                    assertTrue(expected.getMessage().startsWith(p + ": "));
                }
            }
        }
    }

    @Test
    void rejectsGarbageAfterTheGzipStreamButAcceptsConcatenatedMembers() throws IOException {
        byte[] gz = Idx.encode(new int[] {4}, new byte[] {1, 2, 3, 4}, true);
        for (byte[] tail : new byte[][] {{1, 2, 3}, new byte[100], {0x1f, 0x00, 5}}) {
            byte[] all = Arrays.copyOf(gz, gz.length + tail.length);
            System.arraycopy(tail, 0, all, gz.length, tail.length);
            Path p = file("garbage.gz", all);
            assertInvalid(p, "trailing garbage after the gzip stream", () -> Idx.readLabels(p, 10));
        }
        byte[] raw = rawIdx(0x00000801, new int[] {6}, new byte[] {1, 2, 3, 4, 5, 6});
        byte[] a = gzip(Arrays.copyOf(raw, 9));
        byte[] b = gzip(Arrays.copyOfRange(raw, 9, raw.length));
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, Idx.readLabels(file("multi.gz", both), 10));
    }

    @Test
    void readingTheFirstItemsStopsBeforeTheRestOfTheStream() throws IOException {
        byte[] gz = gzip(rawIdx(0x00000801, new int[] {6}, new byte[] {1, 2, 3, 4, 5, 6}));
        // Cut before the gzip trailer: a whole read fails, a read of the first 3 items never gets there.
        Path cut = file("cut.gz", Arrays.copyOf(gz, gz.length - 8));
        assertInvalid(cut, "corrupt or truncated gzip data", () -> Idx.read(cut, 1, Idx.MAX_DATA_BYTES));
        Idx.IdxData first = Idx.read(cut, 1, Idx.MAX_DATA_BYTES, 3);
        assertArrayEquals(new byte[] {1, 2, 3}, first.data());
        assertEquals(3, first.count());
        assertEquals(6, first.declaredCount());
    }

    @Test
    void readingTheFirstItemsStillChecksTheHeaderAndTheFileSize() throws IOException {
        Path raw = file("short", rawIdx(0x00000803, new int[] {4, 2, 2}, pattern(15)));
        assertInvalid(raw, "declare 16 data bytes but the file holds only 15", () -> Idx.read(raw, 3, Idx.MAX_DATA_BYTES, 1));
        Path capped = file("capped.gz", gzip(rawIdx(0x00000803, new int[] {4, 2, 2}, pattern(16))));
        assertInvalid(capped, "more than the limit of 15 bytes", () -> Idx.read(capped, 3, 15, 1));
        Idx.IdxData d = Idx.read(file("ok", rawIdx(0x00000803, new int[] {4, 2, 2}, pattern(16))), 3, 16, 2);
        assertArrayEquals(new int[] {2, 2, 2}, d.dims());
        assertArrayEquals(Arrays.copyOf(pattern(16), 8), d.data());
    }

    @Test
    void gzipDeclaringHugeDimensionsFailsFastWithoutAllocating() throws IOException {
        // ~2 GB declared (within the cap) but only 100 bytes present: must not allocate 2 GB first.
        Path lying = file("lying.gz", gzip(rawIdx(0x00000803, new int[] {2_000_000, 1000, 1}, pattern(100))));
        // Declared beyond the cap: rejected from the header alone.
        Path beyond = file("beyond.gz", gzip(rawIdx(0x00000803, new int[] {1 << 20, 1 << 20, 1 << 20}, pattern(100))));
        // Raw file declaring 2 GB: rejected from the file size alone.
        Path raw = file("lying.raw", rawIdx(0x00000803, new int[] {2_000_000, 1000, 1}, pattern(100)));
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(tid);
        check(lying, "declare 2000000000 data bytes but the decompressed data ends after 100");
        check(beyond, "more than the limit");
        check(raw, "the file holds only 100");
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < 16L << 20, "allocated " + allocated + " bytes");
    }

    private static void check(Path p, String fragment) {
        assertInvalid(p, fragment, () -> Idx.readImages(p));
    }
}
