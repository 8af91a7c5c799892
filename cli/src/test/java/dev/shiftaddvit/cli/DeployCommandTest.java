package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeployCommandTest extends ConsoleCapture {
    /** A tiny model with add-attention and MoE layers, saved as a checkpoint. */
    private static Path converted(Path dir) throws Exception {
        return converted(dir, MoeLinear.DEFAULT_MODE);
    }

    private static Path converted(Path dir, MoeLinear.GateMode mode) throws Exception {
        Model m = tiny();
        SplittableRandom rng = new SplittableRandom(3);
        Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, rng);
        Reparam.trainHashes(m, Tensor.zeros(2, 28, 28, 1));
        Reparam.toMoe(m, new Reparam.MoeOptions(true, true, mode, 0f, new float[]{0.5f, 0.5f}, 1), rng);
        Path p = dir.resolve("converted.safetensors");
        Checkpoints.save(p, m, null, Map.of());
        return p;
    }

    @Test
    void deployWritesAPackedFileThatChecksAndEvaluates(@TempDir Path dir) throws Exception {
        Path ckpt = converted(dir);
        Path dep = dir.resolve("deployed.safetensors");
        assertEquals(0, Main.run("deploy", "--model", ckpt.toString(), "--out", dep.toString(), "--check", "--sample"),
                err.toString());
        String text = stdout();
        assertTrue(text.contains("packed 5-bit") && text.contains("file size:"), text);
        assertTrue(text.contains("(1000 images)") && text.contains("top-1 differs on 0 images"), text);
        Matcher deployedTop1 = Pattern.compile("deployed (\\d+\\.\\d\\d)%").matcher(text);
        assertTrue(deployedTop1.find(), text);
        assertTrue(Files.size(dep) < Files.size(ckpt));

        // eval reads the deploy file as any model file, deployed.
        out.reset();
        assertEquals(0, Main.run("eval", "--model", dep.toString(), "--sample", "--json"), err.toString());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        assertEquals(1000L, ((Number) o.get("images")).longValue());
        assertEquals(Double.parseDouble(deployedTop1.group(1)), ((Number) o.get("top1")).doubleValue(), 1e-9);
        assertTrue(DeployFile.isDeployFile(Checkpoints.load(dep).metadata()));

        // A deploy file as input: checked against the float simulation of its own codes.
        out.reset();
        Path again = dir.resolve("again.safetensors");
        assertEquals(0, Main.run("deploy", "--model", dep.toString(), "--out", again.toString(), "--check", "--sample"),
                err.toString());
        assertTrue(stdout().contains("top-1 differs on 0 images"), stdout());
    }

    @Test
    void denseModelAndBrokenDeployFileAreBadInput(@TempDir Path dir) throws Exception {
        Path dense = dir.resolve("dense.safetensors");
        Checkpoints.save(dense, tiny(), null, Map.of());
        assertEquals(2, Main.run("deploy", "--model", dense.toString(), "--out", dir.resolve("x").toString()));
        assertTrue(err.toString().contains("has no Mult/Shift layers"), err.toString());

        Path dep = dir.resolve("deployed.safetensors");
        assertEquals(0, Main.run("deploy", "--model", converted(dir).toString(), "--out", dep.toString()));
        byte[] bytes = Files.readAllBytes(dep);
        Files.write(dep, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        err.reset();
        assertEquals(2, Main.run("eval", "--model", dep.toString(), "--sample"));
        assertTrue(err.toString().contains(dep.toString()), err.toString());
    }

    @Test
    void shiftOnlyDropsTheRoutersOfLayersAtTheThresholdAndRecordsTheCalibration(@TempDir Path dir) throws Exception {
        Path dep = dir.resolve("shift-only.safetensors");
        // threshold 1e-9: every layer that sent any calibration token to Shift goes shift-only
        assertEquals(0, Main.run("deploy", "--model", converted(dir).toString(), "--out", dep.toString(),
                "--shift-only", "1e-9", "--calibration-images", "40", "--check", "--sample"), err.toString());
        String text = out.toString();
        Matcher summary = Pattern.compile("(\\d+) of (\\d+) layers shift-only").matcher(text);
        assertTrue(summary.find(), text);
        assertTrue(text.contains("converted layers in the deploy file:"), text);
        Checkpoints.Loaded back = Checkpoints.load(dep);
        assertEquals("1.0E-9", back.metadata().get(CheckpointKeys.DEPLOY_SHIFT_ONLY_THRESHOLD));
        assertTrue(back.metadata().get(CheckpointKeys.DEPLOY_CALIBRATION).startsWith("40 images of "),
                back.metadata().toString());
        long shiftOnly = Reparam.moeLayers(back.model()).stream().filter(MoeLinear::isShiftOnly).count();
        assertEquals(Long.parseLong(summary.group(1)), shiftOnly);
        assertEquals(shiftOnly, DeployFile.shiftOnly(back.metadata()).size());
    }

    @Test
    void aShiftOnlyThresholdOutsideZeroToOneIsAFlagError(@TempDir Path dir) throws Exception {
        Path model = converted(dir);
        for (String bad : new String[] {"0", "1.5", "NaN"}) {
            err.reset();
            assertEquals(2, Main.run("deploy", "--model", model.toString(), "--out", dir.resolve("x").toString(),
                    "--shift-only", bad));
            assertTrue(err.toString().contains("--shift-only must be in (0, 1]"), err.toString());
        }
        err.reset();
        assertEquals(2, Main.run("deploy", "--model", model.toString(), "--out", dir.resolve("x").toString(),
                "--shift-only", "0.9", "--calibration-images", "0"));
        assertTrue(err.toString().contains("--calibration-images must be at least 1"), err.toString());
    }

    @Test
    void shiftOnlyOnAProbabilityGatedModelIsBadInputAndWritesNothing(@TempDir Path dir) throws Exception {
        Path model = converted(dir, MoeLinear.GateMode.PROBABILITY);
        Path dep = dir.resolve("shift-only.safetensors");
        assertEquals(2, Main.run("deploy", "--model", model.toString(), "--out", dep.toString(),
                "--shift-only", "1e-9", "--calibration-images", "40"));
        String msg = err.toString();
        assertTrue(msg.contains("--shift-only") && msg.contains("gates by probability") && !msg.contains("\tat "), msg);
        assertFalse(Files.exists(dep));
    }
}
