package dev.shiftaddvit.kernel;

/**
 * A float buffer per thread, grown on demand and reused across calls: a layer's inference
 * temporaries that no caller sees (one instance per use, so two layers never share a buffer).
 */
public final class ThreadScratch {
    private final ThreadLocal<float[][]> buffers = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    /** This thread's buffer, at least {@code size} floats (contents undefined). */
    public float[] get(int size) {
        float[][] holder = buffers.get();
        if (holder[0].length < size) holder[0] = new float[size];
        return holder[0];
    }
}
