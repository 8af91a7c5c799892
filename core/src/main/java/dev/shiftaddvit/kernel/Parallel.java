package dev.shiftaddvit.kernel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one set of worker threads every kernel shares, sized to the cores (or
 * {@code -Dshiftaddvit.threads}). Work is split into a few contiguous chunks per thread, never per
 * row, and chunks are claimed dynamically.
 *
 * <p>A top-level call runs on the calling thread plus {@code threads − 1} persistent helpers that
 * spin briefly after each job before parking (as BLIS does): the caller does its share instead of
 * blocking, and back-to-back kernel calls skip the park/unpark hand-off, which costs more than the
 * arithmetic of a 0.1 ms call. A call made from inside a job (on the caller or a helper) runs
 * inline, so nested kernels never oversubscribe. If another application thread holds the team, the
 * call goes to a ForkJoin pool of the same size. {@code -Dshiftaddvit.parallel.team=false} uses
 * the pool only.
 */
public final class Parallel {
    /**
     * The most workers {@link #setThreads} accepts: beyond a few per core the spinning team only
     * slows every job down (thousands of workers on two cores look like a hang).
     */
    public static final int MAX_THREADS = Math.max(16, 4 * Runtime.getRuntime().availableProcessors());
    private static final int CHUNKS_PER_THREAD = 4;
    /** Spin iterations of an idle helper before it parks (a few tens of microseconds). */
    private static final int SPIN = Integer.getInteger("shiftaddvit.parallel.spin", 20_000);
    private static final boolean USE_TEAM =
            Boolean.parseBoolean(System.getProperty("shiftaddvit.parallel.team", "true"));
    /** Set on helper threads for good and on the caller while it runs a job. */
    private static final ThreadLocal<boolean[]> IN_JOB = ThreadLocal.withInitial(() -> new boolean[1]);
    private static final ReentrantLock TEAM_LOCK = new ReentrantLock();

    private static volatile int threads = Integer.getInteger("shiftaddvit.threads",
            Runtime.getRuntime().availableProcessors());
    private static volatile ForkJoinPool pool = new ForkJoinPool(threads);
    private static Team team;

    private Parallel() {
    }

    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    public static int threads() {
        return threads;
    }

    /** Whether the current thread is already running parallel work (nested calls then run inline). */
    public static boolean inParallelWork() {
        return ForkJoinTask.inForkJoinPool() || IN_JOB.get()[0];
    }

    /** Replaces the workers; used by the CLI's --threads flag before any work starts. */
    public static synchronized void setThreads(int n) {
        if (n < 1 || n > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in [1, " + MAX_THREADS + "], got " + n);
        }
        if (n == threads) return;
        ForkJoinPool old = pool;
        pool = new ForkJoinPool(n);
        threads = n;
        old.shutdown();
    }

    /**
     * {@link #forRange} over the elements of a flat array for a kernel with a vector loop and a
     * scalar tail: every chunk starts at a multiple of the vector length, so only the array's own
     * end reaches a tail. Where the tail rounds differently from the lanes (GELU's erf), a split
     * that follows the thread count would otherwise make the bits follow it too.
     */
    public static void forElements(int n, int minChunk, RangeBody body) {
        int vl = VectorWidth.FLOAT.length();
        forRange((n + vl - 1) / vl, Math.max(1, minChunk / vl), (u0, u1) -> body.run(u0 * vl, Math.min(n, u1 * vl)));
    }

    /**
     * Runs body over [0, n) in contiguous chunks of at least minChunk items, at most a few
     * chunks per thread. Runs inline when the work is small, single-threaded or nested.
     */
    public static void forRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) return;
        int t = threads;
        int chunks = Math.min(Math.max(1, n / Math.max(1, minChunk)), t * CHUNKS_PER_THREAD);
        if (chunks <= 1 || t == 1 || inParallelWork()) {
            body.run(0, n);
            return;
        }
        if (USE_TEAM && TEAM_LOCK.tryLock()) {
            try {
                runOnTeam(new Job(body, n, chunks), t);
            } finally {
                TEAM_LOCK.unlock();
            }
            return;
        }
        pool.invoke(new Split(body, n, chunks, 0, chunks));
    }

    private static void runOnTeam(Job job, int t) {
        if (team == null || team.helpers.length != t - 1) {
            if (team != null) team.stop();
            team = new Team(t - 1);
        }
        team.current = job;
        for (Thread h : team.helpers) LockSupport.unpark(h);
        boolean[] flag = IN_JOB.get();
        flag[0] = true;
        try {
            job.work();
        } finally {
            flag[0] = false;
        }
        while (job.remaining.get() > 0) Thread.onSpinWait();
        Throwable e = job.error;
        if (e instanceof RuntimeException r) throw r;
        if (e instanceof Error r) throw r;
        if (e != null) throw new IllegalStateException(e);
    }

    /** One parallel call: chunks claimed by whichever thread comes first. */
    private static final class Job {
        final RangeBody body;
        final int n;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger remaining;
        volatile Throwable error;

        Job(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.remaining = new AtomicInteger(chunks);
        }

        void work() {
            int ch;
            while ((ch = next.getAndIncrement()) < chunks) {
                try {
                    body.run((int) ((long) n * ch / chunks), (int) ((long) n * (ch + 1) / chunks));
                } catch (Throwable t) {
                    error = t;
                } finally {
                    remaining.decrementAndGet();
                }
            }
        }
    }

    /** The persistent helpers: each takes part in every new job, spins a little, then parks. */
    private static final class Team {
        final Thread[] helpers;
        volatile Job current;
        volatile boolean stopped;

        Team(int size) {
            helpers = new Thread[size];
            for (int i = 0; i < size; i++) {
                helpers[i] = Thread.ofPlatform().daemon().name("shiftaddvit-worker-" + i).start(this::loop);
            }
        }

        private void loop() {
            IN_JOB.get()[0] = true;
            Job last = null;
            int spins = 0;
            while (!stopped) {
                Job j = current;
                if (j != last) {
                    last = j;
                    j.work();
                    spins = 0;
                } else if (spins < SPIN) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
        }

        void stop() {
            stopped = true;
            for (Thread t : helpers) LockSupport.unpark(t);
        }
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
