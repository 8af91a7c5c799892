package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.FashionMnist;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --resume continues only the run its checkpoint belongs to. */
class ResumeTest extends ConsoleCapture {
    private static final List<String> RUN = List.of("train", "--model", "vit_fmnist", "--epochs", "2", "--limit", "64",
            "--eval-limit", "16", "--batch-size", "32");

    @TempDir
    static Path dir;

    /** One epoch of a two-epoch run, as a kill after the first epoch's checkpoint leaves it. */
    @BeforeAll
    static void checkpointAfterTheFirstEpoch() throws Exception {
        Assumptions.assumeTrue(FashionMnist.findInstalled().isPresent(), "Fashion-MNIST is not installed");
        List<String> args = new ArrayList<>(RUN);
        args.set(args.indexOf("--epochs") + 1, "1");
        args.addAll(List.of("--out", dir.resolve("first.safetensors").toString()));
        assertEquals(0, Main.run(args.toArray(String[]::new)));
        // The one-epoch run recorded epochs=1; the run it stands for has 2.
        Checkpoints.Loaded loaded = Checkpoints.load(dir.resolve("first.safetensors.ckpt"));
        Map<String, String> meta = new LinkedHashMap<>(loaded.metadata());
        meta.put("train.epochs", "2");
        Checkpoints.save(dir.resolve("halfway.ckpt"), loaded.model(), loaded.extras(), meta);
    }

    /** A fresh output whose checkpoint is the halfway one. */
    private static Path outputWithHalfwayCheckpoint(String name) throws Exception {
        Path out = dir.resolve(name + ".safetensors");
        Files.copy(dir.resolve("halfway.ckpt"), TrainRun.checkpointFor(out));
        return out;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"--batch-size, 16", "--limit, 32", "--lr, 1e-3", "--seed, 7", "--epochs, 3", "--model, pvt_v2_fmnist"})
    void aResumeWithAnotherSettingIsRefusedNamingTheFlagAndBothValues(String flag, String value) throws Exception {
        Path out = outputWithHalfwayCheckpoint("other" + flag + value);
        List<String> args = new ArrayList<>(RUN);
        int at = args.indexOf(flag);
        if (at >= 0) args.set(at + 1, value);
        else args.addAll(List.of(flag, value));
        args.addAll(List.of("--resume", "--out", out.toString()));
        int code = Main.run(args.toArray(String[]::new));
        String e = stderr().strip();
        assertEquals(2, code, e);
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains(flag + " is ") && e.contains(" now"), e);
        assertTrue(!Files.exists(out), "nothing written");
    }

    @Test
    void aResumeWithTheSameSettingsFinishesTheRun() throws Exception {
        Path out = outputWithHalfwayCheckpoint("same");
        List<String> args = new ArrayList<>(RUN);
        args.addAll(List.of("--resume", "--out", out.toString()));
        assertEquals(0, Main.run(args.toArray(String[]::new)), stderr());
        assertTrue(stderr().contains("resuming vit_fmnist") && stderr().contains("at epoch 2"), stderr());
        assertTrue(Files.exists(out));
    }
}
