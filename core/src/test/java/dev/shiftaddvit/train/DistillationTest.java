package dev.shiftaddvit.train;

import dev.shiftaddvit.data.Augment;
import dev.shiftaddvit.data.Batch;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.model.VitConfig;
import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.GradCheck;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Distillation from the parent: the soft-target term, the loss mix, block matching and a distilled run. */
class DistillationTest {
    private static final float[] MEAN = {0.286f};
    private static final float[] STD = {0.353f};

    private static float[] randn(SplittableRandom rng, int n, float scale) {
        return GradCheck.randn(rng, scale, n).data();
    }

    private static VitConfig tinyVit(int depth) {
        return VitConfig.builder("tiny").imgSize(28).patchSize(7).inChans(1).numClasses(10).embedDim(16).depth(depth)
                .heads(2).mlpRatio(2.0).qkvBias(true).classToken(false).eps(1e-6f).mean(MEAN).std(STD).build();
    }

    @Test
    void softTargetGradientMatchesFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(1);
        for (float temperature : new float[] {0.5f, 1f, 2f, 4f}) {
            int batch = 3;
            int classes = 7;
            float[] s = randn(rng, batch * classes, 2f);
            float[] t = randn(rng, batch * classes, 2f);
            float[] grad = new float[s.length];
            SoftTargets.forwardBackward(s, t, batch, classes, temperature, 1f, grad);
            for (int i = 0; i < s.length; i++) {
                float orig = s[i];
                float eps = 1e-2f;
                s[i] = orig + eps;
                double lp = SoftTargets.forwardBackward(s, t, batch, classes, temperature, 1f, null);
                s[i] = orig - eps;
                double lm = SoftTargets.forwardBackward(s, t, batch, classes, temperature, 1f, null);
                s[i] = orig;
                double numeric = (lp - lm) / (2 * eps);
                assertEquals(numeric, grad[i], 2e-3, "T=" + temperature + " logit " + i);
            }
        }
    }

    @Test
    void softTargetTermVanishesWhenTheStudentAgreesAndGrowsWithDisagreement() {
        SplittableRandom rng = new SplittableRandom(2);
        float[] t = randn(rng, 4 * 10, 3f);
        float[] grad = new float[t.length];
        // Logits that differ by a constant per row give the same distribution.
        float[] shifted = t.clone();
        for (int i = 0; i < shifted.length; i++) shifted[i] += 5f;
        assertEquals(0f, SoftTargets.forwardBackward(shifted, t, 4, 10, 2f, 1f, grad), 1e-5f);
        for (float g : grad) assertEquals(0f, g, 1e-6f);
        float[] other = randn(rng, t.length, 3f);
        assertTrue(SoftTargets.forwardBackward(other, t, 4, 10, 2f, 1f, null) > 0.1f);
    }

    @Test
    void weightZeroKeepsTheLabelLossAndWeightOneIsThePureParentTerm() {
        SplittableRandom rng = new SplittableRandom(3);
        Model parent = tinyVit(1).build(1);
        Tensor logits = Tensor.of(randn(rng, 20, 2f), 2, 10);
        Tensor parentLogits = Tensor.of(randn(rng, 20, 2f), 2, 10);
        int[] labels = {3, 7};
        float[] dce = new float[20];
        float ce = CrossEntropy.forwardBackward(logits.data(), labels, 2, 10, 0.1f, dce);

        float[] d0 = dce.clone();
        float l0 = new Teacher(parent, new DistillConfig(DistillConfig.Kind.SOFT, 2f, 0f, 0f), "p")
                .loss(ce, logits, parentLogits, labels, d0);
        assertEquals(ce, l0, 1e-6f);
        assertArrayEquals(dce, d0, 1e-7f);

        float[] d1 = dce.clone();
        float l1 = new Teacher(parent, new DistillConfig(DistillConfig.Kind.SOFT, 2f, 1f, 0f), "p")
                .loss(ce, logits, parentLogits, labels, d1);
        float[] kdGrad = new float[20];
        float kd = SoftTargets.forwardBackward(logits.data(), parentLogits.data(), 2, 10, 2f, 1f, kdGrad);
        assertEquals(kd, l1, 1e-6f);
        assertArrayEquals(kdGrad, d1, 1e-7f);
    }

    @Test
    void hardDistillationIsCrossEntropyToTheParentsTopOne() {
        SplittableRandom rng = new SplittableRandom(4);
        Model parent = tinyVit(1).build(1);
        Tensor logits = Tensor.of(randn(rng, 30, 2f), 3, 10);
        float[] p = new float[30];
        int[] parentTop = {4, 0, 9};
        for (int r = 0; r < 3; r++) p[r * 10 + parentTop[r]] = 5f;
        int[] labels = {1, 2, 3};
        float[] dce = new float[30];
        float ce = CrossEntropy.forwardBackward(logits.data(), labels, 3, 10, 0f, dce);
        float[] dHard = new float[30];
        float hard = CrossEntropy.forwardBackward(logits.data(), parentTop, 3, 10, 0f, dHard);
        float[] d = dce.clone();
        float loss = new Teacher(parent, new DistillConfig(DistillConfig.Kind.HARD, 1f, 0.25f, 0f), "p")
                .loss(ce, logits, Tensor.of(p, 3, 10), labels, d);
        assertEquals(0.75f * ce + 0.25f * hard, loss, 1e-5f);
        for (int i = 0; i < d.length; i++) assertEquals(0.75f * dce[i] + 0.25f * dHard[i], d[i], 1e-6f);
    }

    @Test
    void blockMatchingGradientsMatchFiniteDifferences() {
        Model parent = tinyVit(2).build(11);
        Model student = tinyVit(2).build(12);
        Teacher teacher = new Teacher(parent, new DistillConfig(DistillConfig.Kind.NONE, 1f, 0f, 1f), "p", b -> true);
        teacher.attach(student);
        Tensor images = GradCheck.randn(new SplittableRandom(5), 1f, 2, 28, 28, 1);
        for (Parameter p : student.parameters()) p.zeroGrad();
        teacher.observe(images);
        Tensor logits = student.forward(images, true);
        assertTrue(teacher.blockLoss() > 0);
        student.backward(Tensor.zeros(logits.shape()));
        SplittableRandom pick = new SplittableRandom(6);
        int checked = 0;
        for (Parameter p : student.parameters()) {
            float[] v = p.value().data();
            float[] g = p.grad().data().clone();
            for (int s = 0; s < 3; s++) {
                int i = pick.nextInt(v.length);
                float orig = v[i];
                float eps = 1e-2f;
                v[i] = orig + eps;
                double lp = blockLoss(teacher, student, images);
                v[i] = orig - eps;
                double lm = blockLoss(teacher, student, images);
                v[i] = orig;
                double numeric = (lp - lm) / (2 * eps);
                assertEquals(numeric, g[i], 2e-3 + 2e-2 * Math.abs(numeric), p.name() + "[" + i + "]");
                checked++;
            }
        }
        assertTrue(checked > 20);
        teacher.detach();
        for (Block b : student.blocks()) b.setProbe(null);
    }

    private static double blockLoss(Teacher teacher, Model student, Tensor images) {
        teacher.observe(images);
        student.forward(images, true);
        return teacher.blockLoss();
    }

    @Test
    void blockMatchingPullsOnlyConvertedBlocksByDefault() {
        Model dense = PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(8, 16)
                .heads(1, 2).mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true)
                .mean(MEAN).std(STD).build().build(1);
        for (Block b : dense.blocks()) assertFalse(Reparam.converted(b));
        Model student = PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(8, 16)
                .heads(1, 2).mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true)
                .mean(MEAN).std(STD).build().build(2);
        Reparam.toMoe(student, Reparam.MoeOptions.DEFAULT, new SplittableRandom(3));
        for (Block b : student.blocks()) assertTrue(Reparam.converted(b));
        Teacher teacher = new Teacher(dense, new DistillConfig(DistillConfig.Kind.SOFT, 2f, 0.5f, 1f), "dense");
        teacher.attach(student);
        Tensor images = GradCheck.randn(new SplittableRandom(4), 1f, 2, 28, 28, 1);
        teacher.observe(images);
        student.forward(images, true);
        assertTrue(teacher.blockLoss() > 0);
        teacher.detach();
        teacher.observe(images);
        student.forward(images, true);
        assertEquals(0.0, teacher.blockLoss());
    }

    @Test
    void aTeacherOfAnotherShapeIsRefusedNamingIt() {
        Model parent = VitConfig.builder("other").imgSize(28).patchSize(7).inChans(1).numClasses(5).embedDim(16)
                .depth(1).heads(2).mlpRatio(2.0).qkvBias(true).classToken(false).eps(1e-6f).mean(MEAN).std(STD)
                .build().build(1);
        Teacher t = new Teacher(parent, DistillConfig.DEFAULT, "parent.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.attach(tinyVit(1).build(2)));
        assertTrue(e.getMessage().contains("parent.safetensors") && e.getMessage().contains("5 classes"), e.getMessage());
    }

    @Test
    void distilledTrainingMovesTheStudentTowardsTheParent() {
        BatchSource src = new BatchSource(FashionMnist.bundledSample().subset(0, 256), MEAN, STD);
        Model parent = tinyVit(1).build(21);
        Model student = tinyVit(1).build(22);
        Batch probe = src.sequential(0, 64);
        double before = kl(student, parent, probe);
        TrainConfig tc = new TrainConfig(3, 32, 3e-3f, 1e-5f, 0.2f, 0f, 0f, 1f, Augment.NONE, 1);
        new Trainer(student, tc, src, null, null, Map.of(), null)
                .distillFrom(new Teacher(parent, new DistillConfig(DistillConfig.Kind.SOFT, 1f, 1f, 0f), "p"))
                .run(0, 0);
        double after = kl(student, parent, probe);
        assertTrue(after < 0.5 * before, "KL to the parent " + before + " -> " + after);
    }

    private static double kl(Model student, Model parent, Batch b) {
        Tensor s = student.forward(b.images(), false);
        Tensor t = parent.forward(b.images(), false);
        return SoftTargets.forwardBackward(s.data(), t.data(), b.size(), 10, 1f, 1f, null);
    }
}
