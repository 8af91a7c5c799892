package dev.shiftaddvit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The width is fixed when the kernels load, so these run the CLI in a JVM of their own: a bad
 * shiftaddvit.vector.bits is bad input (exit 2, one line naming the property), a good one is what
 * {@code bench --json} reports.
 */
class VectorWidthFlagTest {
    @Test
    void aBadWidthExitsTwoNamingTheProperty(@TempDir Path dir) throws Exception {
        Result r = cli(dir, "-Dshiftaddvit.vector.bits=300", "info", "--model", "pvt_v2_fmnist");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("error: system property shiftaddvit.vector.bits must be 128, 256 or 512, got '300'"),
                r.err());
        assertTrue(!r.err().contains("Exception") && !r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void benchJsonReportsTheWidthItRanAt(@TempDir Path dir) throws Exception {
        Result r = cli(dir, "-Dshiftaddvit.vector.bits=128", "bench", "--model", "pvt_v2_fmnist", "--batch-size", "2",
                "--seconds", "0.2", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"vector_bits\":128"), r.out());
        assertTrue(r.out().contains("128-bit vectors (4 floats; shiftaddvit.vector.bits=128"), r.out());
    }

    private record Result(int code, String out, String err) {
    }

    private static Result cli(Path dir, String property, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                property, "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the CLI did not finish in 120 s: " + cmd);
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
