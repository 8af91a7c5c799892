package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV2Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/** Base of command tests: captures stdout and stderr around each test, and builds a tiny model. */
abstract class ConsoleCapture {
    protected final ByteArrayOutputStream out = new ByteArrayOutputStream();
    protected final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream oldOut;
    private PrintStream oldErr;

    @BeforeEach
    void capture() {
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(oldOut);
        System.setErr(oldErr);
    }

    protected String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    protected String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** A two-stage PVT on 28×28 grayscale, small enough for command tests. */
    static Model tiny() {
        return PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(8, 16).heads(1, 2)
                .mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true).mean(0.286f)
                .std(0.353f).build().build(1);
    }

    /** {@link #tiny()} saved as dir/tiny.safetensors. */
    static Path tinyModel(Path dir) throws Exception {
        Path p = dir.resolve("tiny.safetensors");
        Checkpoints.save(p, tiny(), null, Map.of("train.command", "test"));
        return p;
    }
}
