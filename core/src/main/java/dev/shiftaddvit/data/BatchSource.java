package dev.shiftaddvit.data;

import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.tensor.Tensor;

import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.stream.IntStream;

/**
 * Turns uint8 images (Fashion-MNIST, or image files decoded on demand) into normalised NHWC
 * batches. For training, each epoch has its own seeded permutation and each sample its own
 * augmentation streams derived from (seed, epoch, index), so a resumed run sees exactly the batches
 * it would have seen. A producer thread prepares the next batches while the current one trains,
 * and the samples of a batch are prepared in parallel (decoding image files is the costly part).
 */
public final class BatchSource {
    /** Separates the stream of the data set's own training transform from the augmentation's. */
    private static final long CROP_STREAM = 0x5DEECE66DL;

    private final LabeledImages data;
    private final int channels;
    private final float[] mean;
    private final float[] std;
    private final float[] background;

    public BatchSource(LabeledImages data, float[] mean, float[] std) {
        if (data.channels() != mean.length || std.length != mean.length) {
            throw new IllegalArgumentException(data.source() + " has " + data.channels() + " channels; the model's mean/std have "
                    + mean.length + "/" + std.length);
        }
        this.data = data;
        this.channels = mean.length;
        this.mean = mean;
        this.std = std;
        this.background = new float[channels];
        for (int c = 0; c < channels; c++) background[c] = -mean[c] / std[c];
    }

    public int size() {
        return data.n();
    }

    /** Batch `index` of an unshuffled pass (evaluation); the last batch may be short. */
    public Batch sequential(int index, int batchSize) {
        int from = index * batchSize;
        int to = Math.min(data.n(), from + batchSize);
        int[] idx = new int[to - from];
        for (int i = 0; i < idx.length; i++) idx[i] = from + i;
        return assemble(idx, null, 0, 0L);
    }

    /** The images at {@code indices}, in that order, without augmentation or training transform. */
    public Batch select(int[] indices) {
        return assemble(indices.clone(), null, 0, 0L);
    }

    public int stepsPerEpoch(int batchSize) {
        return data.n() / batchSize;
    }

    /** The training permutation of an epoch (drop-last batching). */
    public int[] permutation(long seed, int epoch) {
        int n = data.n();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom rng = new SplittableRandom(mix(seed, epoch, -1));
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    public Batch training(int[] perm, int step, int batchSize, Augment aug, long seed, int epoch) {
        int[] idx = new int[batchSize];
        System.arraycopy(perm, step * batchSize, idx, 0, batchSize);
        return assemble(idx, aug, epoch, seed);
    }

    /**
     * Prepares training batches [firstStep, steps) of an epoch on a producer thread, two ahead.
     * The returned queue yields them in order; the thread is a daemon and stops with the epoch.
     * If preparing a batch fails (a corrupt image file), {@code take()} throws that failure where
     * the batch would have come.
     */
    public BlockingQueue<Batch> prefetch(long seed, int epoch, int firstStep, int batchSize, Augment aug) {
        PrefetchQueue q = new PrefetchQueue();
        int[] perm = permutation(seed, epoch);
        int steps = stepsPerEpoch(batchSize);
        Thread.ofPlatform().daemon().name("batch-prefetch").start(() -> {
            try {
                try {
                    for (int s = firstStep; s < steps; s++) q.put(training(perm, s, batchSize, aug, seed, epoch));
                } catch (RuntimeException | Error e) {
                    q.fail(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return q;
    }

    /** A queue whose take() rethrows the producer's failure instead of waiting forever for its batch. */
    private static final class PrefetchQueue extends ArrayBlockingQueue<Batch> {
        private static final long serialVersionUID = 1L;
        private static final Batch FAILED = new Batch(null, new int[0]);
        private transient volatile Throwable failure;

        PrefetchQueue() {
            super(2);
        }

        void fail(Throwable e) throws InterruptedException {
            failure = e;
            put(FAILED);
        }

        @Override
        public Batch take() throws InterruptedException {
            Batch b = super.take();
            if (b != FAILED) return b;
            if (failure instanceof Error e) throw e;
            throw (RuntimeException) failure;
        }
    }

    private Batch assemble(int[] idx, Augment aug, int epoch, long seed) {
        int sample = data.h() * data.w() * channels;
        float[] images = new float[idx.length * sample];
        int[] labels = new int[idx.length];
        // Each sample has its own slice and random streams, so preparing them in parallel keeps batches deterministic.
        IntStream.range(0, idx.length).parallel().forEach(i -> {
            labels[i] = data.label(idx[i]);
            prepare(idx[i], images, i * sample, aug, epoch, seed);
        });
        return new Batch(Tensor.of(images, idx.length, data.h(), data.w(), channels), labels);
    }

    private void prepare(int s, float[] images, int off, Augment aug, int epoch, long seed) {
        int n = data.h() * data.w() * channels;
        byte[] pixels = new byte[n];
        if (aug == null) data.copyPixels(s, pixels, 0);
        else data.copyTrainingPixels(s, pixels, 0, new SplittableRandom(mix(seed ^ CROP_STREAM, epoch, s)));
        float[] dst = aug == null ? images : new float[n];
        int dstOff = aug == null ? off : 0;
        Normalize.bytes(pixels, dst, dstOff, n, mean, std);
        if (aug != null) {
            aug.apply(dst, 0, images, off, data.h(), data.w(), channels, background,
                    new SplittableRandom(mix(seed, epoch, s)));
        }
    }

    static long mix(long seed, int epoch, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
