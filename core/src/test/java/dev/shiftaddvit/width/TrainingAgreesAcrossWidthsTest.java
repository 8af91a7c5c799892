package dev.shiftaddvit.width;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The same few training steps of the default model at 128, 256 and 512 bits, each in its own JVM
 * (the width is fixed when the kernel classes load), agree within {@link #TOLERANCE}: the widths
 * differ only in summation order (lane-wise partial sums, reductions), which moves a float32 loss by
 * about 1e-7 relative over these steps; a width bug (a wrong tail, a spilled store) moves it by far
 * more. A second run at the first width, with one thread more than the first, must repeat it bit
 * for bit, weights included: the kernels' results may depend neither on when the JIT compiles them
 * nor on the thread count or how the threads interleave.
 */
class TrainingAgreesAcrossWidthsTest {
    /** Relative tolerance on every step's loss and the held-out loss after training. */
    static final double TOLERANCE = 1e-5;
    private static final int[] WIDTHS = {128, 256, 512};
    private static final long TIMEOUT_S = 600;

    @Test
    void fewStepsOfTheDefaultModelGiveTheSameLossesAtEveryWidthAndRepeatExactly() throws Exception {
        Map<Integer, Map<String, String>> runs = new LinkedHashMap<>();
        int threads = Runtime.getRuntime().availableProcessors();
        for (int bits : WIDTHS) runs.put(bits, run(bits, threads));
        Map<String, String> ref = runs.get(WIDTHS[0]);
        assertEquals(ShortTrainingRun.STEPS + 3, ref.size(), "figures printed at " + WIDTHS[0] + " bits: " + ref);
        assertEquals(ref, run(WIDTHS[0], threads + 1),
                "a second run at " + WIDTHS[0] + " bits with " + (threads + 1) + " threads instead of " + threads);
        for (var e : runs.entrySet()) {
            Map<String, String> got = e.getValue();
            assertEquals(Integer.toString(e.getKey()), got.get("bits"), "the child JVM ran at the width it was given");
            for (var f : ref.entrySet()) {
                if (f.getKey().equals("bits") || f.getKey().equals("weights")) continue;
                double a = Double.parseDouble(f.getValue());
                String b = got.get(f.getKey());
                assertTrue(b != null && Math.abs(a - Double.parseDouble(b)) <= TOLERANCE * Math.abs(a),
                        f.getKey() + " at " + WIDTHS[0] + " bits " + a + ", at " + e.getKey() + " bits " + b
                                + " (relative tolerance " + TOLERANCE + ")");
            }
        }
    }

    private static Map<String, String> run(int bits, int threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-XX:+UseParallelGC");
        cmd.add("-Dshiftaddvit.vector.bits=" + bits);
        cmd.add("-Dshiftaddvit.threads=" + threads);
        cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.add(ShortTrainingRun.class.getName());
        Path out = Files.createTempFile("width-" + bits + "-", ".out");
        Path err = Files.createTempFile("width-" + bits + "-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("training run at " + bits + " bits did not finish in " + TIMEOUT_S + " s");
            }
            if (p.exitValue() != 0) {
                fail("training run at " + bits + " bits exited with " + p.exitValue() + ":\n" + Files.readString(err));
            }
            return parse(Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static Map<String, String> parse(String out) {
        Map<String, String> figures = new LinkedHashMap<>();
        for (String line : out.strip().split("\n")) {
            String[] kv = line.split(" ");
            if (kv.length == 2) figures.put(kv[0], kv[1]);
        }
        return figures;
    }
}
