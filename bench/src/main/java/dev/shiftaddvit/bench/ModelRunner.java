package dev.shiftaddvit.bench;

/**
 * One engine running one model on a fixed set of inputs (the {@link BenchImages} it was built with,
 * each already converted to the engine's own tensor type, so that timing covers only the forward and
 * the copy of the logits back to the Java heap).
 */
interface ModelRunner extends AutoCloseable {
    /** Logits [batch, classes] of input i, row-major. */
    float[] run(int input) throws Exception;

    @Override
    default void close() throws Exception {
    }
}
