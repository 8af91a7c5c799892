package dev.shiftaddvit.train;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.Augment;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.eval.Evaluation;
import dev.shiftaddvit.eval.Evaluator;
import dev.shiftaddvit.io.Safetensors;
import dev.shiftaddvit.io.SafetensorsFile;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    private static final float[] MEAN = {0.286f};
    private static final float[] STD = {0.353f};

    private static VitConfig tinyVit() {
        return VitConfig.builder("tiny").imgSize(28).patchSize(7).inChans(1).numClasses(10).embedDim(16).depth(1)
                .heads(2).mlpRatio(2.0).qkvBias(true).classToken(false).eps(1e-6f).mean(MEAN).std(STD).build();
    }

    private static Dataset data(int n) {
        return FashionMnist.bundledSample().subset(0, n);
    }

    private static TrainConfig config(int epochs, float lr, long seed) {
        return new TrainConfig(epochs, 32, lr, 1e-5f, 0.5f, 0.05f, 0.1f, 1f, new Augment(2, true, 0.25f), seed);
    }

    @Test
    void trainingReducesLossAndBeatsChanceOnHeldOutImages() {
        Model m = PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(8, 16).heads(1, 2)
                .mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true).mean(MEAN)
                .std(STD).build().build(1);
        Dataset all = data(1000);
        BatchSource train = new BatchSource(all.subset(0, 800), MEAN, STD);
        BatchSource test = new BatchSource(all.subset(800, 1000), MEAN, STD);
        Evaluation before = Evaluator.evaluate(m, test, 100, null);
        Trainer.EpochStats last = new Trainer(m, config(6, 5e-3f, 1), train, test, null, Map.of(), null).run(0, 0);
        assertTrue(last.eval().loss() < before.loss() - 0.3, "loss " + before.loss() + " -> " + last.eval().loss());
        assertTrue(last.eval().top1() > 40, "top-1 after 6 short epochs: " + last.eval().top1());
    }

    @Test
    void trainingTwiceWithTheSameSeedGivesIdenticalWeights() {
        BatchSource src = new BatchSource(data(256), MEAN, STD);
        Model a = tinyVit().build(5);
        Model b = tinyVit().build(5);
        new Trainer(a, config(2, 1e-3f, 9), src, null, null, Map.of(), null).run(0, 0);
        new Trainer(b, config(2, 1e-3f, 9), src, null, null, Map.of(), null).run(0, 0);
        for (Parameter p : a.parameters()) {
            assertArrayEquals(p.value().data(), b.namedParameters().get(p.name()).value().data(), p.name());
        }
    }

    @Test
    void resumingFromAnEpochCheckpointReproducesTheUninterruptedRun(@TempDir Path dir) {
        assertResumeIsExact(dir, 0, new Trainer.Listener() {
            @Override
            public void onEpochEnd(Trainer.EpochStats s) {
                throw new Interrupt();
            }
        });
    }

    @Test
    void resumingFromAMidEpochCheckpointReproducesTheUninterruptedRun(@TempDir Path dir) {
        assertResumeIsExact(dir, 3, new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepStats s) {
                if (s.step() == 5) throw new Interrupt();
            }
        });
    }

    /** Trains 2 epochs straight, and again interrupted by the listener then resumed from its checkpoint. */
    private static void assertResumeIsExact(Path dir, int checkpointEvery, Trainer.Listener interrupter) {
        BatchSource src = new BatchSource(data(256), MEAN, STD);
        Model straight = tinyVit().build(5);
        new Trainer(straight, config(2, 1e-3f, 9), src, null, dir.resolve("a.ckpt"), Map.of(), null).run(0, 0);

        Path ckpt = dir.resolve("b.ckpt");
        Trainer first = new Trainer(tinyVit().build(5), config(2, 1e-3f, 9), src, null, ckpt, Map.of(), interrupter)
                .checkpointEvery(checkpointEvery);
        assertThrows(Interrupt.class, () -> first.run(0, 0));
        Checkpoints.Loaded loaded = Checkpoints.load(ckpt);
        Trainer resumed = new Trainer(loaded.model(), config(2, 1e-3f, 9), src, null, ckpt, Map.of(), null);
        resumed.optimizer().restore(loaded.optimizerStep(), loaded.extras(), ckpt.toString());
        resumed.run(loaded.nextEpoch(), loaded.nextStep());
        for (Parameter p : straight.parameters()) {
            Parameter q = loaded.model().namedParameters().get(p.name());
            assertArrayEquals(p.value().data(), q.value().data(), p.name() + " differs after resume");
        }
    }

    private static final class Interrupt extends RuntimeException {
    }

    @Test
    void divergingLossStopsWithAClearErrorAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        Dataset d = data(128);
        BatchSource src = new BatchSource(d, MEAN, STD);
        Path ckpt = dir.resolve("run.ckpt");
        Model m = tinyVit().build(1);
        new Trainer(m, config(1, 1e-3f, 1), src, null, ckpt, Map.of(), null).run(0, 0);
        byte[] good = Files.readAllBytes(ckpt);
        m.parameters().getFirst().value().data()[0] = Float.NaN;
        Trainer t = new Trainer(m, config(2, 1e-3f, 1), src, null, ckpt, Map.of(), null);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.run(1, 0));
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains(ckpt.toString()), e.getMessage());
        assertArrayEquals(good, Files.readAllBytes(ckpt));
    }

    @Test
    void divergingBeforeAnyCheckpointSaysSoInsteadOfNamingAMissingFile(@TempDir Path dir) {
        Path ckpt = dir.resolve("never.ckpt");
        Model m = tinyVit().build(1);
        m.parameters().getFirst().value().data()[0] = Float.NaN;
        Trainer t = new Trainer(m, config(1, 1e-3f, 1), new BatchSource(data(64), MEAN, STD), null, ckpt, Map.of(), null);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.run(0, 0));
        assertTrue(e.getMessage().contains("no checkpoint was written") && !e.getMessage().contains(ckpt.toString()),
                e.getMessage());
        assertFalse(Files.exists(ckpt));
    }

    @Test
    void checkpointRecordsConfigTrainingStateAndOptimizerMoments(@TempDir Path dir) {
        Path ckpt = dir.resolve("m.safetensors");
        Model m = tinyVit().build(2);
        new Trainer(m, config(1, 1e-3f, 42), new BatchSource(data(64), MEAN, STD), null, ckpt,
                Map.of("train.command", "test"), null).run(0, 0);
        try (SafetensorsFile f = Safetensors.read(ckpt)) {
            Map<String, String> meta = f.metadata();
            assertEquals("vit", meta.get("arch"));
            assertEquals("42", meta.get("train.seed"));
            assertEquals("1", meta.get("train.next_epoch"));
            assertEquals("2", meta.get("train.optimizer_step"));
            assertEquals("test", meta.get("train.command"));
            assertTrue(f.contains("optim.m.head.weight") && f.contains("optim.v.head.weight"));
        }
        Checkpoints.Loaded loaded = Checkpoints.load(ckpt);
        for (Parameter p : m.parameters()) {
            assertArrayEquals(p.value().data(), loaded.model().namedParameters().get(p.name()).value().data(), 0f);
        }
    }
}
