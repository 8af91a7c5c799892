package dev.shiftaddvit.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A smoke run of the shootout on a 28-pixel model, one sample each; no Python, no TorchScript file. */
class EngineShootoutTest {
    @Test
    void runsEveryVariantAndSkipsTorchWithoutTheFile(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        ShootoutOptions o = ShootoutOptions.parse("--models=vit_fmnist", "--samples=1", "--rounds=1", "--batch=2",
                "--calibration-images=2", "--torchscript-dir=" + dir, "--moe-route=router,shift,shiftonly");
        String report = EngineShootout.run(o, new PrintStream(log, true, StandardCharsets.UTF_8));
        String logText = log.toString(StandardCharsets.UTF_8);

        assertTrue(Files.exists(dir.resolve("vit_fmnist.safetensors")), "weights for the TorchScript step");
        assertTrue(logText.contains("libtorch rows of vit_fmnist skipped"), logText);
        assertFalse(logText.contains("WARNING"), logText);
        assertTrue(report.contains("| vit_fmnist | full attention (MSA) | shiftaddvit-java |"), report);
        assertTrue(report.contains("| vit_fmnist | full attention (MSA) | ONNX Runtime |"), report);
        assertTrue(report.contains("| vit_fmnist | add-attention everywhere | shiftaddvit-java |"), report);
        assertTrue(report.contains("| vit_fmnist | add-attention everywhere + MoE, deployed | shiftaddvit-java |"),
                report);
        assertTrue(report.contains("(untrained router) |"), report);
        assertTrue(report.contains("Shift 100.0 %") && report.contains("(forced: all Shift) |"), report);
        assertTrue(report.contains("(deployed shift-only) |"), report);
        assertFalse(report.contains("libtorch (DJL) |"), report);
        assertEquals(6 + 2, report.lines().filter(l -> l.startsWith("|")).count(), report);
    }

    @Test
    void aPvtConfigRunsAtAnotherInputSize() {
        ShootoutOptions o = ShootoutOptions.parse("--models=pvt_v2_fmnist", "--img-size=56");
        assertEquals(56, o.imgSize());
        assertEquals(56, ShiftAddVariants.config("pvt_v2_fmnist", o.imgSize()).imgSize());
        assertEquals(28, ShiftAddVariants.config("pvt_v2_fmnist", 0).imgSize());
    }

    @Test
    void rejectsBadOptions() {
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--sample=3"));
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--models=deit_huge"));
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--variants=full,mul"));
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--samples=0"));
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--weights-only"));
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--alpha-from=speed"));
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--moe-route=router,all"));
        assertThrows(IllegalArgumentException.class, () -> ShootoutOptions.parse("--img-size=0"));
    }
}
