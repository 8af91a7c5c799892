package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoCommandTest extends ConsoleCapture {
    @AfterEach
    void clearHome() {
        System.clearProperty("shiftaddvit.home");
    }

    private static Path home(Path dir, boolean withShiftAdd) throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Checkpoints.save(models.resolve("fmnist-dense.safetensors"), tiny(), null, Map.of("train.command", "dense"));
        if (withShiftAdd) {
            Model m = tiny();
            SplittableRandom rng = new SplittableRandom(3);
            Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, rng);
            Reparam.toMoe(m, new Reparam.MoeOptions(true, true, Reparam.MoeOptions.DEFAULT.mode(), 0.01f,
                    new float[]{0.2f, 0.8f}, 1), rng);
            DeployFile.save(models.resolve("fmnist-shiftadd.safetensors"), m, Map.of("pipeline.command", "shiftadd"));
        }
        System.setProperty("shiftaddvit.home", dir.toString());
        return dir;
    }

    /** demo with a 0.05 s speed-measuring window, to keep the test short; no timing is asserted. */
    private static int demoWithShortSpeedWindow() {
        return Main.run("demo", "--sample", "--seconds", "0.05");
    }

    @Test
    void demoShowsDenseAndShiftAddSideBySideWithTheirCosts(@TempDir Path dir) throws Exception {
        home(dir, true);
        assertEquals(0, demoWithShortSpeedWindow(), stderr());
        String out = stdout();
        for (String s : new String[]{"ShiftAddViT", "vs dense", "top-1", "multiplications / image", "energy / image",
                "weight bytes", "tokens to Shift experts", "converted layers", "made by: shiftadd"}) {
            assertTrue(out.contains(s), s + " missing in:\n" + out);
        }
    }

    @Test
    void demoWithoutTheShiftAddModelShowsTheDenseColumnAndSaysWhatIsMissing(@TempDir Path dir) throws Exception {
        home(dir, false);
        assertEquals(0, demoWithShortSpeedWindow(), stderr());
        assertTrue(stdout().contains("fmnist-shiftadd.safetensors"), stdout());
        assertFalse(stdout().contains("converted layers"), stdout());
    }
}
