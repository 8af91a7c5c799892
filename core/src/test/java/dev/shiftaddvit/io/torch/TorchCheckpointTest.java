package dev.shiftaddvit.io.torch;

import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static dev.shiftaddvit.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The torch.save reader on a file written by PyTorch 2.13 (scripts/make_import_fixtures.py) and on
 * hand-made hostile, garbled and truncated archives.
 */
class TorchCheckpointTest {
    @TempDir
    Path tmp;

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(TorchCheckpointTest.class.getResource("/import/" + name).toURI());
    }

    @Test
    void readsDtypesViewsAndUnwrapsStateDict() throws Exception {
        // dtypes.pt = {"state_dict": {f32, f16, bf16, t = f32.t(), view = f32[1:, 1:3], i64}, "epoch": 3}, a = arange(12)/8.
        Map<String, Tensor> sd = TorchCheckpoint.readStateDict(fixture("dtypes.pt"));
        assertEquals(java.util.List.of("f32", "f16", "bf16", "t", "view", "i64"), java.util.List.copyOf(sd.keySet()));
        float[] a = new float[12];
        for (int i = 0; i < 12; i++) a[i] = i / 8f;
        for (String k : new String[] {"f32", "f16", "bf16"}) {
            assertArrayEquals(new int[] {3, 4}, sd.get(k).shape(), k);
            assertArrayEquals(a, sd.get(k).data(), k);
        }
        float[] t = new float[12];
        for (int r = 0; r < 4; r++) for (int c = 0; c < 3; c++) t[r * 3 + c] = a[c * 4 + r];
        assertArrayEquals(new int[] {4, 3}, sd.get("t").shape());
        assertArrayEquals(t, sd.get("t").data());
        assertArrayEquals(new float[] {a[5], a[6], a[9], a[10]}, sd.get("view").data());
        assertArrayEquals(new float[] {0, 1, 2}, sd.get("i64").data());
    }

    /** A pickle around one tensor of storage "0" (FloatStorage, numel {@code numel}) with the given size and stride. */
    static byte[] tensorPickle(int numel, int offset, int size, int stride) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.write('}');
        b.write('(');
        unicode(b, "w");
        global(b, "torch._utils", "_rebuild_tensor_v2");
        b.write('(');
        b.write('(');
        unicode(b, "storage");
        global(b, "torch", "FloatStorage");
        unicode(b, "0");
        unicode(b, "cpu");
        binint(b, numel);
        b.write('t');
        b.write('Q');
        binint(b, offset);
        binint(b, size);
        b.write(0x85);
        binint(b, stride);
        b.write(0x85);
        b.write(0x89);
        b.write('N');
        b.write('t');
        b.write('R');
        b.write('u');
        b.write('.');
        return b.toByteArray();
    }

    static void unicode(ByteArrayOutputStream b, String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        b.write('X');
        binint32(b, u.length);
        b.writeBytes(u);
    }

    static void global(ByteArrayOutputStream b, String module, String name) {
        b.write('c');
        b.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    static void binint(ByteArrayOutputStream b, int v) {
        b.write('J');
        binint32(b, v);
    }

    static void binint32(ByteArrayOutputStream b, int v) {
        for (int i = 0; i < 4; i++) b.write(v >>> (8 * i));
    }

    /** A torch.save-style archive, entries stored uncompressed as torch writes them. */
    Path archive(String name, byte[] pickle, byte[] storage0) throws IOException {
        Path p = tmp.resolve(name);
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream z = new ZipOutputStream(os)) {
            put(z, "archive/data.pkl", pickle);
            put(z, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            if (storage0 != null) put(z, "archive/data/0", storage0);
        }
        return p;
    }

    static void put(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }

    @Test
    void handMadeArchiveReads() throws IOException {
        byte[] storage = new byte[16];
        java.nio.ByteBuffer.wrap(storage).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, 1f).putFloat(4, 2f)
                .putFloat(8, 3f).putFloat(12, 4f);
        Path p = archive("ok.pth", tensorPickle(4, 1, 2, 2), storage);
        assertArrayEquals(new float[] {2f, 4f}, TorchCheckpoint.readStateDict(p).get("w").data());
    }

    @Test
    void refusesHostileGlobal() throws IOException {
        // The classic payload: GLOBAL os.system, a tuple ("echo pwned",), REDUCE.
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        global(b, "os", "system");
        unicode(b, "echo pwned");
        b.write(0x85);
        b.write('R');
        b.write('.');
        Path p = archive("evil.pth", b.toByteArray(), null);
        assertInvalid(p, "refuses global os.system", () -> TorchCheckpoint.readStateDict(p));
        Path q = archive("module.pth", ("\u0080\u0002cargparse\nNamespace\n).").getBytes(StandardCharsets.ISO_8859_1), null);
        assertInvalid(q, "refuses global argparse.Namespace", () -> TorchCheckpoint.readStateDict(q));
    }

    @Test
    void refusesSizesBeyondTheFile() throws IOException {
        Path huge = archive("huge.pth", tensorPickle(Integer.MAX_VALUE, 0, 4, 1), new byte[16]);
        assertInvalid(huge, "more than the file holds", () -> TorchCheckpoint.readStateDict(huge));
        Path outside = archive("outside.pth", tensorPickle(4, 2, 3, 1), new byte[16]);
        assertInvalid(outside, "reaches beyond its storage", () -> TorchCheckpoint.readStateDict(outside));
        Path wide = archive("wide.pth", tensorPickle(4, 0, 2, Integer.MAX_VALUE), new byte[16]);
        assertInvalid(wide, "reaches beyond its storage", () -> TorchCheckpoint.readStateDict(wide));
        Path shortStorage = archive("short.pth", tensorPickle(4, 0, 4, 1), new byte[12]);
        assertInvalid(shortStorage, "has 12 bytes but 4 FLOAT elements need 16", () -> TorchCheckpoint.readStateDict(shortStorage));
        Path noStorage = archive("nostorage.pth", tensorPickle(4, 0, 4, 1), null);
        assertInvalid(noStorage, "storage data/0 is missing", () -> TorchCheckpoint.readStateDict(noStorage));
    }

    @Test
    void garbledAndTruncatedInputIsATypedError() throws Exception {
        byte[] good = tensorPickle(4, 0, 4, 1);
        for (int cut = 1; cut < good.length; cut++) {
            Path p = archive("cut" + cut + ".pth", Arrays.copyOf(good, cut), new byte[16]);
            assertInvalid(p, "", () -> TorchCheckpoint.readStateDict(p));
        }
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 200; i++) {
            byte[] garbled = good.clone();
            garbled[rng.nextInt(garbled.length)] = (byte) rng.nextInt(256);
            Path p = archive("garbled.pth", garbled, new byte[16]);
            try {
                TorchCheckpoint.readStateDict(p);
            } catch (dev.shiftaddvit.io.InvalidInputException expected) {
                assertEquals(p.toString(), expected.source());
            }
        }
        byte[] file = Files.readAllBytes(fixture("deit_timm.pth"));
        Path truncated = tmp.resolve("truncated.pth");
        Files.write(truncated, Arrays.copyOf(file, file.length / 2));
        assertInvalid(truncated, "zip", () -> TorchCheckpoint.readStateDict(truncated));
        Path legacy = tmp.resolve("legacy.pth");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        assertInvalid(legacy, "legacy (pre-1.6, non-zip)", () -> TorchCheckpoint.readStateDict(legacy));
        Path opcode = archive("opcode.pth", new byte[] {(byte) 0x80, 2, (byte) 0xfe}, null);
        assertInvalid(opcode, "unsupported or invalid opcode 0xfe", () -> TorchCheckpoint.readStateDict(opcode));
    }
}
