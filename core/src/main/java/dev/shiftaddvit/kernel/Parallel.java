package dev.shiftaddvit.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The one worker pool every kernel shares, sized to the cores (or {@code -Dshiftaddvit.threads}).
 * Work is split into a few contiguous chunks per thread, never per row; a call made from inside
 * a worker runs serially so nested kernels never oversubscribe.
 */
public final class Parallel {
    private static volatile int threads = Integer.getInteger("shiftaddvit.threads",
            Runtime.getRuntime().availableProcessors());
    private static volatile ForkJoinPool pool = new ForkJoinPool(threads);

    private Parallel() {
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    public static int threads() {
        return threads;
    }

    /** Replaces the pool; used by the CLI's --threads flag before any work starts. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        if (n == threads) return;
        ForkJoinPool old = pool;
        pool = new ForkJoinPool(n);
        threads = n;
        old.shutdown();
    }

    /**
     * Runs body over [0, n) in contiguous chunks of at least minChunk items, at most a few
     * chunks per thread. Runs inline when the work is small, single-threaded or nested.
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) return;
        int maxChunks = Math.max(1, n / Math.max(1, minChunk));
        int chunks = Math.min(maxChunks, threads * 4);
        if (chunks <= 1 || threads == 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        pool.invoke(new Split(body, n, chunks, 0, chunks));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int n;
        private final int chunks;
        private final int lo;
        private final int hi;

        Split(RangeBody body, int n, int chunks, int lo, int hi) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                int from = (int) ((long) n * lo / chunks);
                int to = (int) ((long) n * hi / chunks);
                body.run(from, to);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, n, chunks, lo, mid), new Split(body, n, chunks, mid, hi));
        }
    }
}
