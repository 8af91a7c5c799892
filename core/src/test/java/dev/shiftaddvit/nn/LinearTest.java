package dev.shiftaddvit.nn;

import dev.shiftaddvit.tensor.Tensor;
import dev.shiftaddvit.train.AdamW;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** Linear's inference forward runs on a weight packed once; it must always see the weight as it is. */
class LinearTest {
    private static Tensor input(int rows, int in, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = Tensor.zeros(rows, in);
        for (int i = 0; i < x.size(); i++) x.data()[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void inferenceOnThePackedWeightGivesTheBitsOfTheTrainingForward() {
        Linear l = new Linear("fc", 48, 80, true, new SplittableRandom(1));
        Tensor x = input(100, 48, 2);
        Tensor training = l.forward(x, true);
        assertArrayEquals(training.data(), l.forward(x, false).data());
        assertArrayEquals(training.data(), l.forward(x, false).data(), "again, from the kept pack");
    }

    @Test
    void anOptimizerStepReachesTheNextInferenceForward() {
        Linear l = new Linear("fc", 48, 80, true, new SplittableRandom(3));
        Tensor x = input(64, 48, 4);
        l.forward(x, false);
        Tensor dy = l.forward(x, true);
        l.backward(dy);
        new AdamW(l.parameters(), 0.9f, 0.999f, 1e-8f, 0.05f).step(1e-2f);
        assertArrayEquals(l.forward(x, true).data(), l.forward(x, false).data());
    }

    @Test
    void aWriteFollowedByChangedReachesTheNextInferenceForward() {
        Linear l = new Linear("fc", 48, 80, false, new SplittableRandom(5));
        Tensor x = input(64, 48, 6);
        float[] before = l.forward(x, false).data();
        l.weight().value().data()[7] += 1f;
        l.weight().changed();
        float[] after = l.forward(x, false).data();
        assertArrayEquals(l.forward(x, true).data(), after);
        assertNotEquals(before[0], after[0], "output 0 of row 0 reads weight 7");
    }
}
