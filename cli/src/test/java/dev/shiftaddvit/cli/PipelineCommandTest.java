package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.cli.report.PipelineSummary;
import dev.shiftaddvit.cli.report.StageResult;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.MoeLinear;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineCommandTest extends ConsoleCapture {
    @Test
    void pipelineConvertsFineTunesMeasuresReportsAndResumesByReusingStages(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(FashionMnist.findInstalled().isPresent(), "Fashion-MNIST is not installed");
        Path parent = tinyModel(dir);
        Path work = dir.resolve("pipe");
        Path out = dir.resolve("final.safetensors");
        String[] args = {"pipeline", "--model", parent.toString(), "--dir", work.toString(), "--out", out.toString(),
                "--attn-epochs", "1", "--moe-epochs", "1", "--limit", "128", "--eval-limit", "64",
                "--speed-seconds", "0.1", "--hash-images", "16", "--latency-batch", "1"};
        assertEquals(0, Main.run(args), stderr());
        for (String f : List.of("report.md", "summary.json", "accuracy.png", "throughput.png", "energy.png")) {
            assertTrue(Files.size(work.resolve(f)) > 0, f);
        }
        PipelineSummary s = PipelineSummary.read(work.resolve("summary.json"));
        assertEquals(List.of("dense", "attn", "moe", "deployed"), s.stages().stream().map(r -> r.stage()).toList());
        assertEquals(64, s.stages().getLast().evalImages());
        assertEquals(1, s.stages().get(2).history().size(), "the moe fine-tune curve is recorded");
        assertEquals(1, s.stages().get(2).epochs());
        for (int i : new int[]{0, 3}) {
            StageResult r = s.stages().get(i);
            assertEquals(0, r.epochs(), r.stage() + " trains nothing in the pipeline");
            assertTrue(r.history().isEmpty() && r.trainMinutes() == 0, r.stage() + " has no fine-tune of its own");
        }
        assertFalse(Double.isNaN(s.stages().getLast().shiftTokenShare()));
        assertTrue(s.stages().getLast().shiftsPerImage() > 0 && s.stages().get(0).shiftsPerImage() == 0);

        Checkpoints.Loaded fin = Checkpoints.load(out);
        Model m = fin.model();
        assertTrue(DeployFile.isDeployFile(fin.metadata()), "--out is the deploy file");
        assertEquals("attn+moe", m.shiftAdd().stage());
        for (MoeLinear l : Reparam.moeLayers(m)) assertTrue(l.isDeployed(), l.name());
        assertEquals(m.blocks().size(), Reparam.addAttentions(m).size(), "every block runs add-attention");
        for (AddAttention a : Reparam.addAttentions(m)) assertTrue(a.hash().isTrained());
        assertTrue(fin.metadata().get("pipeline.command").startsWith("shiftaddvit pipeline --model"));
        for (String stage : List.of("attn", "moe")) {
            Map<String, String> meta = Checkpoints.load(work.resolve(stage + ".safetensors")).metadata();
            assertEquals("soft,temperature=2.0,weight=0.5,block_weight=0.0", meta.get("train.distill"), stage);
            assertEquals(parent.toString(), meta.get("train.teacher"), stage + " learns from the dense parent");
        }

        err.reset();
        assertEquals(0, Main.run(args), stderr());
        assertTrue(stderr().contains("[attn] reusing") && stderr().contains("[moe] reusing fine-tuned"), stderr());
    }

    @Test
    void reparamMoeOnADenseModelWithFixedAlphaRecordsIt(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("moe.safetensors");
        assertEquals(0, Main.run("reparam", "--model", tinyModel(dir).toString(), "--stage", "moe",
                "--moe-layers", "mlp", "--alpha", "6,4", "--out", out.toString()), stderr());
        Checkpoints.Loaded l = Checkpoints.load(out);
        assertEquals("moe", l.model().shiftAdd().stage());
        assertEquals("0.6,0.4", l.metadata().get("shiftadd.moe.alpha.stages.0.blocks.0.mlp.fc1"));
        assertEquals(4, Reparam.moeLayers(l.model()).size(), "fc1 and fc2 of both blocks");
    }

    @Test
    void badStageAndBadReparamFlagsAreUsageErrors(@TempDir Path dir) throws Exception {
        String model = tinyModel(dir).toString();
        String out = dir.resolve("x.safetensors").toString();
        assertEquals(2, Main.run("reparam", "--model", model, "--stage", "shift", "--out", out));
        assertTrue(stderr().contains("--stage must be attn or moe"), stderr());
        assertEquals(2, Main.run("reparam", "--model", model, "--stage", "moe", "--alpha", "1", "--out", out));
        assertEquals(2, Main.run("reparam", "--model", model, "--stage", "moe", "--moe-layers", "head", "--out", out));
        assertFalse(Files.exists(dir.resolve("x.safetensors")), "nothing is written on bad flags");
    }
}
