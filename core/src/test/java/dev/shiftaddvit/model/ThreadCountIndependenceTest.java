package dev.shiftaddvit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.shiftaddvit.data.Batch;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.shiftadd.MoeLinear;
import dev.shiftaddvit.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * A training step gives the same bits with 1 and with 3 threads: logits, loss gradient of every
 * parameter. Work is split by thread count (attention row blocks, element chunks), so each kernel
 * must make a row's or an element's arithmetic independent of where the split falls.
 */
class ThreadCountIndependenceTest {
    @Test
    void denseFashionMnistModelsGiveTheSameBitsAtOneAndThreeThreads() {
        for (String name : new String[]{"vit_fmnist", "pvt_v2_fmnist"}) {
            assertSameBits(name, () -> Configs.byName(name).build(1));
        }
    }

    @Test
    void shiftAddModelGivesTheSameBitsAtOneAndThreeThreads() {
        assertSameBits("pvt_v2_fmnist with add-attention and MoE", () -> {
            Model m = Configs.byName("pvt_v2_fmnist").build(1);
            Reparam.toAddAttention(m, Reparam.AttnOptions.DEFAULT, new SplittableRandom(2));
            Reparam.trainHashes(m, sample(m.config()).images());
            // fixed α: measured latencies (the default) differ from run to run by design
            Reparam.toMoe(m, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, MoeLinear.DEFAULT_BALANCE_COEF,
                    new float[]{0.6f, 0.4f}, 32), new SplittableRandom(3));
            return m;
        });
    }

    private static void assertSameBits(String what, Supplier<Model> model) {
        List<float[]> one = step(model, 1);
        List<float[]> three = step(model, 3);
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i), three.get(i), what + (i == 0 ? ": logits" : ": gradient " + i));
        }
    }

    /** The first 16 bundled sample images, normalised for c. */
    private static Batch sample(ModelConfig c) {
        return new BatchSource(FashionMnist.bundledSample().subset(0, 16), c.mean(), c.std()).sequential(0, 16);
    }

    /** Logits and every parameter gradient of one forward/backward on 16 sample images. */
    private static List<float[]> step(Supplier<Model> model, int threads) {
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            Model m = model.get();
            ModelConfig c = m.config();
            Batch b = sample(c);
            Tensor logits = m.forward(b.images(), true);
            Tensor d = Tensor.zeros(logits.shape());
            CrossEntropy.forwardBackward(logits.data(), b.labels(), b.size(), c.numClasses(), 0.1f, d.data());
            m.backward(d);
            List<float[]> out = new ArrayList<>();
            out.add(logits.data().clone());
            for (Parameter p : m.parameters()) out.add(p.grad().data().clone());
            return out;
        } finally {
            Parallel.setThreads(before);
        }
    }
}
