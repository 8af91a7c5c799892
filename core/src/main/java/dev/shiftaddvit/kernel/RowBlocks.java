package dev.shiftaddvit.kernel;

/**
 * Runs row-wise work one block of rows per task, each block on one thread from its first step to
 * its last: a block's intermediates stay in that core's L2, and one fork-join replaces one
 * per step (LayerNorm, GEMM, bias add, GELU, residual add each split over the pool on their own).
 */
public final class RowBlocks {
    /** Rows per block at most: Gemm's m block, so a block's A and intermediate rows stay in L2. */
    public static final int MAX_ROWS = 144;

    /** A block's work: rows [r0, r0 + m) on the calling thread. */
    @FunctionalInterface
    public interface Body {
        void run(int r0, int m);
    }

    private RowBlocks() {
    }

    /** Block height for rows split over the threads: as tall as allowed, at least one block per thread. */
    public static int height(int rows) {
        return Math.min(MAX_ROWS, Math.max(1, (rows + Parallel.threads() - 1) / Parallel.threads()));
    }

    /** Runs body over rows [0, rows) in blocks of {@link #height}, blocks claimed dynamically. */
    public static void run(int rows, Body body) {
        int block = height(rows);
        int blocks = (rows + block - 1) / block;
        Parallel.forRange(blocks, 1, (from, to) -> {
            for (int t = from; t < to; t++) {
                int r0 = t * block;
                body.run(r0, Math.min(block, rows - r0));
            }
        });
    }
}
