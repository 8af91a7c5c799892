package dev.shiftaddvit.train;

import dev.shiftaddvit.eval.Speed;
import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.profile.Profiler;
import dev.shiftaddvit.tensor.Tensor;

import java.util.List;

/** Training throughput of a model on random images, the companion of {@link Speed} for inference. */
public final class TrainingSpeed {
    private TrainingSpeed() {
    }

    /** Training steps (forward, label-smoothed loss, backward, AdamW) per second on random images. */
    public static double imagesPerSecond(Model m, int batch, double seconds, boolean profile,
                                         List<Profiler.Entry> profileOut) {
        ModelConfig c = m.config();
        Tensor x = Speed.randomImages(c, batch, 4);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % c.numClasses();
        AdamW opt = new AdamW(m.parameters(), 0.9f, 0.999f, 1e-8f, 0.05f);
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        do {
            trainStep(m, opt, x, labels);
        } while (System.nanoTime() < warmEnd);
        int steps = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        do {
            trainStep(m, opt, x, labels);
            steps++;
        } while (System.nanoTime() < end);
        double ips = (double) steps * batch / ((System.nanoTime() - t0) / 1e9);
        if (profile) profileOut.addAll(Profiler.during(() -> trainStep(m, opt, x, labels)));
        return ips;
    }

    private static void trainStep(Model m, AdamW opt, Tensor x, int[] labels) {
        for (Parameter p : m.parameters()) p.zeroGrad();
        Tensor logits = m.forward(x, true);
        Tensor d = Tensor.zeros(logits.shape());
        CrossEntropy.forwardBackward(logits.data(), labels, labels.length, m.config().numClasses(), 0.1f, d.data());
        m.backward(d);
        opt.step(1e-4f);
    }
}
