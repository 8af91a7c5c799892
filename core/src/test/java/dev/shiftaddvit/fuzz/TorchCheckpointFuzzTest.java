package dev.shiftaddvit.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shiftaddvit.io.torch.TorchCheckpoint;
import dev.shiftaddvit.io.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of the torch.save reader: {@link #checkpoint} mutates whole {@code .pth}
 * files (zip structure, entry sizes, then the pickle and storages inside), {@link #pickle} mutates
 * only {@code data.pkl} inside an otherwise valid archive whose storages {@code data/0..3} are
 * those of the {@code dtypes.pt} seed, so that the fuzzer spends its time in the restricted
 * unpickler, the allow-list and the view/storage checks rather than on zip checksums.
 *
 * <p><b>Running.</b> {@code mvn test} runs every {@code *FuzzTest} in Jazzer's regression mode: each
 * target once on the empty input and on each seed under
 * {@code core/src/test/resources/dev/shiftaddvit/fuzz/<Class>Inputs/} (files directly there are
 * shared by the class's targets, files under {@code <Class>Inputs/<method>/} belong to one target,
 * and that is where a campaign writes the {@code crash-*} inputs it finds, which then stay as
 * regression tests). Coverage-guided fuzzing needs {@code JAZZER_FUZZ=1} and one target per JVM:
 *
 * <pre>
 * for t in SafetensorsFuzzTest#open TorchCheckpointFuzzTest#checkpoint TorchCheckpointFuzzTest#pickle \
 *          ImageInputFuzzTest#decode JsonFuzzTest#parse IdxFuzzTest#read ModelMetadataFuzzTest#load \
 *          ImportConfigFuzzTest#load; do
 *   JAZZER_FUZZ=1 mvn -q -pl core test-compile surefire:test@default-test -Dtest="$t" || break
 * done
 * </pre>
 *
 * Each runs for the annotation's {@code maxDuration} (10 s) at a few hundred to a few thousand
 * inputs per second. A longer campaign sets Jazzer's {@code max_duration} option, which overrides
 * the annotation, e.g. {@code -Djazzer.max_duration=1h} (or {@code JAZZER_MAX_DURATION=1h}); the
 * {@code jazzer-fuzz} profile of core/pom.xml, active whenever {@code JAZZER_FUZZ} is set, stops
 * JUnit from applying the targets' {@code @Timeout} to the whole campaign, and Jazzer uses it as
 * its per-input timeout instead. The same pom limits coverage instrumentation to our classes and
 * the JDK's image decoders. The corpus a campaign grows is kept in
 * {@code core/.cifuzz-corpus/<class>/<method>/} (not committed); a finding is written as
 * {@code <Class>Inputs/<method>/crash-<sha1>} and then replays in every {@code mvn test}: fix the
 * reader, keep the file. Stopping a campaign early (Ctrl-C, or a JUnit timeout) also leaves a
 * {@code crash-*} file for the input that was running; delete that one.
 */
class TorchCheckpointFuzzTest {
    private static final Path FILE = FuzzOracle.scratchFile(".pth");
    private static final byte[][] STORAGES = storagesOfTheDtypesSeed();

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void checkpoint(byte[] input) throws Exception {
        Files.write(FILE, input);
        // Entries are read at their declared size, capped by the file (stored) or by deflate's
        // ~1032x ratio; tensors add up to at most one float per file byte.
        readBounded(FuzzOracle.BASE_ALLOWANCE + 1100L * input.length);
    }

    @FuzzTest(maxDuration = "10s")
    @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void pickle(byte[] pickle) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            put(zip, "archive/data.pkl", pickle);
            put(zip, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < STORAGES.length; i++) put(zip, "archive/data/" + i, STORAGES[i]);
        }
        Files.write(FILE, bytes.toByteArray());
        // The pickle is deflated in the archive: its entry may be up to ~1032x its compressed size.
        readBounded(FuzzOracle.BASE_ALLOWANCE + 1100L * (pickle.length + 1024));
    }

    /** Found by reading the code while writing these targets: a 400-byte file asked for 8 GiB. */
    @Test
    void anExpandedViewOfOneElementIsRefusedBeforeAllocating() throws Exception {
        // A 46000 x 46000 view with strides (0, 0) over a one-element storage: 2.1e9 floats.
        Files.write(FILE, archive(tensorPickle(1, 46000, 46000, 0, 1), new byte[4]));
        assertRefusedCheaply("overlapping (expanded) views are not supported");
    }

    @Test
    void oneStorageNamedUnderManyKeysIsRefusedBeyondTheFileSize() throws Exception {
        // The memoised tensor of a 4096-float storage under 300 keys: 4.9 MB of floats from a 17 kB file.
        byte[] storage = new byte[4 * 4096];
        new java.util.Random(1).nextBytes(storage); // incompressible, so that the file is as large as the storage
        Files.write(FILE, archive(tensorPickle(300, 64, 64, 64, 4096), storage));
        assertRefusedCheaply("add up to more than");
    }

    @Test
    void aZipEntryDeclaringGigabytesIsRefusedBeforeReading() throws Exception {
        byte[] zip = archive(tensorPickle(1, 2, 2, 2, 4), new byte[16]);
        // Patch the central directory's uncompressed size of data.pkl (offset 24 of its header).
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int at = -1;
        for (int i = zip.length - 46; i >= 0 && at < 0; i--) {
            if (b.getInt(i) == 0x02014b50 && new String(zip, i + 46, b.getShort(i + 28), StandardCharsets.UTF_8)
                    .equals("archive/data.pkl")) at = i;
        }
        assertTrue(at >= 0, "central directory entry of data.pkl");
        b.putInt(at + 24, 0x7ff00000);
        Files.write(FILE, zip);
        assertRefusedCheaply("declares 2146435072 bytes");
    }

    private static void assertRefusedCheaply(String problem) {
        long before = FuzzOracle.allocatedBytes();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> TorchCheckpoint.readStateDict(FILE));
        long used = FuzzOracle.allocatedBytes() - before;
        assertTrue(e.problem().contains(problem), e::getMessage);
        assertTrue(used < 32L << 20, () -> "allocated " + used + " bytes before refusing");
    }

    /**
     * A state dict of {@code keys} entries all naming one memoised tensor of shape (rows, cols),
     * strides (stride, 1) or (0, 0) when stride is 0, over FloatStorage "0" of {@code numel}.
     */
    static byte[] tensorPickle(int keys, int rows, int cols, int stride, int numel) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.write('}');
        b.write('(');
        unicode(b, "k0");
        b.writeBytes("ctorch._utils\n_rebuild_tensor_v2\n(".getBytes(StandardCharsets.US_ASCII));
        b.write('(');
        unicode(b, "storage");
        b.writeBytes("ctorch\nFloatStorage\n".getBytes(StandardCharsets.US_ASCII));
        unicode(b, "0");
        unicode(b, "cpu");
        binint(b, numel);
        b.write('t');
        b.write('Q');
        binint(b, 0);
        binint(b, rows);
        binint(b, cols);
        b.write(0x86);
        binint(b, stride);
        binint(b, stride == 0 ? 0 : 1);
        b.write(0x86);
        b.write(0x89);
        b.writeBytes("ccollections\nOrderedDict\n)R".getBytes(StandardCharsets.US_ASCII));
        b.write('t');
        b.write('R');
        b.write('q'); // BINPUT 1: memoise the tensor
        b.write(1);
        for (int k = 1; k < keys; k++) {
            unicode(b, "k" + k);
            b.write('h'); // BINGET 1
            b.write(1);
        }
        b.write('u');
        b.write('.');
        return b.toByteArray();
    }

    private static void unicode(ByteArrayOutputStream b, String s) {
        byte[] u = s.getBytes(StandardCharsets.UTF_8);
        b.write('X');
        b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(u.length).array());
        b.writeBytes(u);
    }

    private static void binint(ByteArrayOutputStream b, int v) {
        b.write('J');
        b.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    /** A deflated archive holding data.pkl and storage data/0. */
    private static byte[] archive(byte[] pickle, byte[] storage0) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            put(zip, "archive/data.pkl", pickle);
            put(zip, "archive/data/0", storage0);
        }
        return bytes.toByteArray();
    }

    private static void readBounded(long bound) throws Exception {
        FuzzOracle.check(FILE.toString(), bound, () -> TorchCheckpoint.readStateDict(FILE));
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(data);
        zip.closeEntry();
    }

    private static byte[][] storagesOfTheDtypesSeed() {
        byte[][] out = new byte[4][];
        // ZipFile rather than ZipInputStream: torch writes stored entries with data descriptors.
        Path copy = FuzzOracle.scratchFile(".pt");
        try (InputStream in = TorchCheckpointFuzzTest.class.getResourceAsStream(
                "TorchCheckpointFuzzTestInputs/checkpoint/dtypes.pt")) {
            Files.write(copy, in.readAllBytes());
            try (ZipFile zip = new ZipFile(copy.toFile())) {
                for (ZipEntry e : Collections.list(zip.entries())) {
                    String n = e.getName();
                    int at = n.indexOf("/data/");
                    if (at < 0) continue;
                    try (InputStream s = zip.getInputStream(e)) {
                        out[Integer.parseInt(n.substring(at + 6))] = s.readAllBytes();
                    }
                }
            }
            Files.delete(copy);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (byte[] b : out) if (b == null) throw new IllegalStateException("dtypes.pt seed lacks a storage");
        return out;
    }
}
