package dev.shiftaddvit.kernel;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {
    private static void assertCoversEachIndexOnce(int n, int minChunk) {
        AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
        Parallel.forRange(n, minChunk, (from, to) -> {
            for (int i = from; i < to; i++) hits.incrementAndGet(i);
        });
        for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i + " of " + n);
    }

    @Test
    void everyIndexIsVisitedExactlyOnce() {
        for (int n : new int[]{0, 1, 2, 7, 64, 1000, 100_003}) {
            for (int minChunk : new int[]{1, 3, 100}) assertCoversEachIndexOnce(n, minChunk);
        }
    }

    @Test
    void elementChunksStartAtMultiplesOfTheVectorLengthAndCoverEachIndexOnce() {
        int vl = VectorWidth.FLOAT.length();
        int before = Parallel.threads();
        try {
            for (int threads : new int[]{1, 2, 3, 5}) {
                Parallel.setThreads(threads);
                for (int n : new int[]{0, 1, vl - 1, vl + 1, 1000, 100_003}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(n);
                    Parallel.forElements(n, 64, (from, to) -> {
                        assertEquals(0, from % vl, "chunk start " + from + " with " + threads + " threads");
                        for (int i = from; i < to; i++) seen.incrementAndGet(i);
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i + " of " + n);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void nestedCallsRunInlineOnTheThreadOfTheOuterChunk() {
        AtomicReference<String> problem = new AtomicReference<>();
        Parallel.forRange(64, 1, (from, to) -> {
            Thread outer = Thread.currentThread();
            if (!Parallel.inParallelWork()) problem.set("outer chunk not marked as parallel work");
            Parallel.forRange(1000, 1, (a, b) -> {
                if (Thread.currentThread() != outer) problem.set("nested chunk ran on another thread");
            });
        });
        assertEquals(null, problem.get());
        assertTrue(!Parallel.inParallelWork(), "the caller is unmarked after the call");
    }

    @Test
    void anExceptionInAChunkReachesTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(100, 1, (from, to) -> {
                    if (from == 0) throw boom;
                }));
        assertSame(boom, thrown);
        assertCoversEachIndexOnce(1000, 1);
    }

    @Test
    void concurrentCallersFromPlainThreadsAllComplete() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                try {
                    for (int i = 0; i < 200; i++) assertCoversEachIndexOnce(5000 + i, 7);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw new AssertionError("a concurrent caller failed", failure.get());
    }
}
