package dev.shiftaddvit.serve;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.Prediction;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Collects concurrent requests into batches: one worker takes the oldest waiting image, then waits up to
 * {@code maxDelay} from its arrival for up to {@code maxBatch − 1} more, runs them as one forward and
 * completes each request with its own top-k. The queue is bounded: {@link #submit} refuses an image when it
 * is full, so overload answers at once instead of piling up. {@link #close} stops taking new images and
 * finishes every image already accepted.
 */
public final class DynamicBatcher implements AutoCloseable {
    /** One queued image: its pixels, how many classes it wants back, and where its result goes. */
    private record Pending(float[] pixels, int topK, CompletableFuture<List<Prediction>> result) {
    }

    private static final Pending STOP = new Pending(null, 0, null);

    private final ImageClassifier classifier;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final BlockingQueue<Pending> queue;
    private final IntConsumer batchSizes;
    private final int pixelsPerImage;
    private final Thread worker;
    private volatile boolean closed;

    /**
     * Starts the worker, a daemon platform thread that runs every batch.
     *
     * @param classifier    runs the batches, on the worker thread only
     * @param maxBatch      images per forward at most, at least 1
     * @param maxDelayNanos how long the oldest waiting image waits for others, in nanoseconds, at least 0
     * @param queueCapacity images that may wait, at least 1; {@link #submit} refuses one more
     * @param batchSizes    told the size of every batch run (metrics)
     * @throws IllegalArgumentException when a limit is out of range
     */
    public DynamicBatcher(ImageClassifier classifier, int maxBatch, long maxDelayNanos, int queueCapacity,
                          IntConsumer batchSizes) {
        if (maxBatch < 1) throw new IllegalArgumentException("max batch must be at least 1, got " + maxBatch);
        if (maxDelayNanos < 0) throw new IllegalArgumentException("max delay must be >= 0, got " + maxDelayNanos);
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be at least 1, got " + queueCapacity);
        this.classifier = classifier;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = maxDelayNanos;
        this.queue = new ArrayBlockingQueue<>(queueCapacity + 1);
        this.batchSizes = batchSizes;
        var c = classifier.model().config();
        this.pixelsPerImage = c.imgSize() * c.imgSize() * c.inChans();
        this.worker = Thread.ofPlatform().name("shiftaddvit-batcher").daemon().start(this::run);
    }

    /**
     * Queues one image (HWC pixels in [0, 1] of the model's input); the future completes with its top-k
     * or with the forward's exception. Null when the queue is full or the batcher is closed.
     *
     * @param pixels the image, imgSize·imgSize·inChans values of the model's config, HWC (not copied: leave it
     *               unchanged until the future completes)
     * @param topK   how many classes to return, at least 1
     * @return the future of the image's most probable classes, most probable first; null when refused
     * @throws IllegalArgumentException for an image of the wrong size or a top-k below 1
     */
    public synchronized CompletableFuture<List<Prediction>> submit(float[] pixels, int topK) {
        // Checked here, so that one bad request cannot fail the others of its batch.
        if (pixels.length != pixelsPerImage) {
            throw new IllegalArgumentException("an image of " + pixels.length + " values; the model takes "
                    + pixelsPerImage);
        }
        if (topK < 1) throw new IllegalArgumentException("top-k must be at least 1, got " + topK);
        if (closed) return null;
        Pending p = new Pending(pixels, topK, new CompletableFuture<>());
        // One slot stays free for the stop marker, so close() never blocks behind a full queue.
        if (queue.remainingCapacity() <= 1 || !queue.offer(p)) return null;
        return p.result();
    }

    /**
     * Images accepted and not yet taken into a batch.
     *
     * @return the queue's length now
     */
    public int queued() {
        return queue.size();
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        boolean stopping = false;
        while (!stopping) {
            batch.clear();
            Pending first = take();
            if (first == STOP) break;
            batch.add(first);
            long deadline = System.nanoTime() + maxDelayNanos;
            while (batch.size() < maxBatch) {
                Pending next = queue.poll();
                if (next == null) {
                    long wait = deadline - System.nanoTime();
                    if (wait <= 0) break;
                    next = poll(wait);
                    if (next == null) break;
                }
                if (next == STOP) {
                    stopping = true;
                    break;
                }
                batch.add(next);
            }
            runBatch(batch);
        }
        // Closing: whatever was accepted before the stop marker still gets its answer.
        List<Pending> rest = new ArrayList<>();
        queue.drainTo(rest);
        rest.remove(STOP);
        for (int i = 0; i < rest.size(); i += maxBatch) runBatch(rest.subList(i, Math.min(rest.size(), i + maxBatch)));
    }

    private void runBatch(List<Pending> batch) {
        if (batch.isEmpty()) return;
        int topK = 1;
        List<float[]> images = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            topK = Math.max(topK, p.topK());
            images.add(p.pixels());
        }
        try {
            List<List<Prediction>> out = classifier.predictBatch(images, topK);
            batchSizes.accept(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                List<Prediction> all = out.get(i);
                batch.get(i).result().complete(List.copyOf(all.subList(0, Math.min(batch.get(i).topK(), all.size()))));
            }
        } catch (Throwable e) {
            // The worker lives on, and no request waits for an answer that will not come.
            for (Pending p : batch) p.result().completeExceptionally(e);
        }
    }

    private Pending take() {
        while (true) {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                if (closed) return STOP;
            }
        }
    }

    private Pending poll(long nanos) {
        try {
            return queue.poll(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            return null;
        }
    }

    /** Stops accepting images, answers every accepted one, and waits for the worker to finish. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
            queue.offer(STOP);
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
