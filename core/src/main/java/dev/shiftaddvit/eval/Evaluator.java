package dev.shiftaddvit.eval;

import dev.shiftaddvit.data.Batch;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.tensor.Tensor;

import java.util.function.IntConsumer;

/** Top-1 accuracy, mean loss and images/s of a model over a batch source (no augmentation). */
public final class Evaluator {
    private Evaluator() {
    }

    public static Evaluation evaluate(Model model, BatchSource data, int batchSize, IntConsumer progress) {
        int classes = model.config().numClasses();
        int batches = (data.size() + batchSize - 1) / batchSize;
        int correct = 0;
        double lossSum = 0;
        long start = System.nanoTime();
        for (int i = 0; i < batches; i++) {
            Batch b = data.sequential(i, batchSize);
            Tensor logits = model.forward(b.images(), false);
            lossSum += CrossEntropy.forwardBackward(logits.data(), b.labels(), b.size(), classes, 0f, null) * b.size();
            correct += countCorrect(logits.data(), b.labels(), classes);
            if (progress != null) progress.accept(b.size());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Evaluation(data.size(), correct, data.size() == 0 ? 0 : lossSum / data.size(), seconds);
    }

    public static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) if (v[off + j] > v[off + best]) best = j;
        return best;
    }

    public static int countCorrect(float[] logits, int[] labels, int classes) {
        int c = 0;
        for (int i = 0; i < labels.length; i++) if (argmax(logits, i * classes, classes) == labels[i]) c++;
        return c;
    }
}
