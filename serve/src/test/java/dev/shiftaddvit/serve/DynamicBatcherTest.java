package dev.shiftaddvit.serve;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.Prediction;
import dev.shiftaddvit.model.PvtV2Config;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The batcher: each image gets the Java API's answer, a bad submission or a failed forward harms no one else. */
class DynamicBatcherTest {
    private static GatedModel model() {
        return new GatedModel(PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(8, 16)
                .heads(1, 2).mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true)
                .mean(0.3f).std(0.35f).build().build(3));
    }

    private static float[] image(int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] px = new float[28 * 28];
        for (int i = 0; i < px.length; i++) px[i] = (float) r.nextDouble();
        return px;
    }

    @Test
    void queuedImagesRunAsOneBatchAndEachGetsItsOwnTopK() throws Exception {
        GatedModel m = model();
        ImageClassifier c = new ImageClassifier(m, ImageClassifier.defaultLabels(m.config(), true));
        List<Integer> sizes = new ArrayList<>();
        try (DynamicBatcher b = new DynamicBatcher(c, 8, TimeUnit.MILLISECONDS.toNanos(50), 16, sizes::add)) {
            // The first forward holds the worker while five more images queue up behind it.
            CompletableFuture<List<Prediction>> first = b.submit(image(0), 1);
            m.entered.await();
            List<CompletableFuture<List<Prediction>>> rest = new ArrayList<>();
            for (int i = 1; i <= 5; i++) rest.add(b.submit(image(i), i));
            m.open.countDown();
            assertEquals(c.predict(image(0), 1), first.get());
            for (int i = 1; i <= 5; i++) {
                List<Prediction> expected = c.predict(image(i), i);
                List<Prediction> got = rest.get(i - 1).get();
                assertEquals(i, got.size());
                for (int j = 0; j < i; j++) {
                    assertEquals(expected.get(j).classIndex(), got.get(j).classIndex());
                    assertEquals(expected.get(j).probability(), got.get(j).probability(), 1e-6f);
                }
            }
        }
        assertEquals(List.of(1, 5), sizes);
    }

    @Test
    void aBadSubmissionIsRefusedAtOnceAndAFailedForwardFailsOnlyItsBatch() throws Exception {
        GatedModel m = model();
        m.open.countDown();
        ImageClassifier c = new ImageClassifier(m, ImageClassifier.defaultLabels(m.config(), true));
        try (DynamicBatcher b = new DynamicBatcher(c, 4, 0, 4, n -> { })) {
            assertThrows(IllegalArgumentException.class, () -> b.submit(new float[5], 1));
            assertThrows(IllegalArgumentException.class, () -> b.submit(image(1), 0));
            m.failNext = true;
            ExecutionException e = assertThrows(ExecutionException.class, () -> b.submit(image(2), 3).get());
            assertTrue(e.getCause().getMessage().contains("on purpose"));
            assertEquals(3, b.submit(image(3), 3).get().size(), "the worker lives on");
            b.close();
            assertNull(b.submit(image(4), 1), "a closed batcher takes nothing");
        }
    }
}
