package dev.shiftaddvit.train;

import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.tensor.Tensor;

import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Turns uint8 images (Fashion-MNIST, or image files decoded on demand) into normalised NHWC
 * batches. For training, each epoch has its own seeded permutation and each sample its own
 * augmentation stream derived from (seed, epoch, index), so a resumed run sees exactly the batches
 * it would have seen. A producer thread prepares the next batches while the current one trains.
 */
public final class BatchSource {
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
     */
    public BlockingQueue<Batch> prefetch(long seed, int epoch, int firstStep, int batchSize, Augment aug) {
        BlockingQueue<Batch> q = new ArrayBlockingQueue<>(2);
        int[] perm = permutation(seed, epoch);
        int steps = stepsPerEpoch(batchSize);
        Thread.ofPlatform().daemon().name("batch-prefetch").start(() -> {
            try {
                for (int s = firstStep; s < steps; s++) q.put(training(perm, s, batchSize, aug, seed, epoch));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return q;
    }

    private Batch assemble(int[] idx, Augment aug, int epoch, long seed) {
        int h = data.h();
        int w = data.w();
        int px = h * w;
        int c = channels;
        float[] images = new float[idx.length * px * c];
        float[] tmp = new float[px * c];
        byte[] pixels = new byte[px * c];
        int[] labels = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            int s = idx[i];
            labels[i] = data.label(s);
            data.copyPixels(s, pixels, 0);
            float[] dst = aug == null ? images : tmp;
            int dstOff = aug == null ? i * px * c : 0;
            for (int p = 0; p < px * c; p++) {
                int ch = p % c;
                dst[dstOff + p] = ((pixels[p] & 0xff) / 255f - mean[ch]) / std[ch];
            }
            if (aug != null) {
                aug.apply(tmp, 0, images, i * px * c, h, w, c, background, new SplittableRandom(mix(seed, epoch, s)));
            }
        }
        return new Batch(Tensor.of(images, idx.length, h, w, c), labels);
    }

    static long mix(long seed, int epoch, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
