package dev.shiftaddvit.eval;

import dev.shiftaddvit.data.Batch;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.model.Model;

import java.util.function.IntConsumer;

/**
 * How closely two models (a float simulation and its deployed form) agree over a data set, in one pass
 * each per batch: the top-1 accuracy of each, the images whose predicted class differs, and the largest
 * |Δlogit| over all images and classes.
 */
public record Agreement(int images, int correctA, int correctB, int differing, double maxAbsDiff) {
    public static Agreement measure(Model a, Model b, BatchSource data, int batchSize, IntConsumer progress) {
        int classes = a.config().numClasses();
        if (b.config().numClasses() != classes) {
            throw new IllegalArgumentException("the models have " + classes + " and " + b.config().numClasses()
                    + " classes");
        }
        int correctA = 0;
        int correctB = 0;
        int differing = 0;
        double maxDiff = 0;
        for (int i = 0, batches = (data.size() + batchSize - 1) / batchSize; i < batches; i++) {
            Batch batch = data.sequential(i, batchSize);
            float[] la = a.forward(batch.images(), false).data();
            float[] lb = b.forward(batch.images(), false).data();
            for (int k = 0; k < batch.size(); k++) {
                int off = k * classes;
                int pa = Evaluator.argmax(la, off, classes);
                int pb = Evaluator.argmax(lb, off, classes);
                if (pa == batch.labels()[k]) correctA++;
                if (pb == batch.labels()[k]) correctB++;
                if (pa != pb) differing++;
                for (int c = off; c < off + classes; c++) maxDiff = Math.max(maxDiff, Math.abs((double) la[c] - lb[c]));
            }
            if (progress != null) progress.accept(batch.size());
        }
        return new Agreement(data.size(), correctA, correctB, differing, maxDiff);
    }

    /** Top-1 of the first model, in percent. */
    public double top1A() {
        return images == 0 ? 0 : 100.0 * correctA / images;
    }

    /** Top-1 of the second model, in percent. */
    public double top1B() {
        return images == 0 ? 0 : 100.0 * correctB / images;
    }
}
