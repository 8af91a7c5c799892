package dev.shiftaddvit.parity;

import ai.djl.engine.Engine;

/**
 * libtorch through DJL, loaded without the network: the native library comes from the
 * pytorch-native-cpu jar and the JNI from the pytorch-jni jar on the class path, and
 * {@code ai.djl.offline=true} makes a missing library an error instead of a download.
 * Set {@code ai.djl.pytorch.num_threads} before the first call to choose the intra-op threads.
 */
public final class TorchEngine {
    private static Engine engine;

    private TorchEngine() {
    }

    /** The PyTorch engine; throws IllegalStateException (never skips) when libtorch cannot be loaded. */
    public static synchronized Engine get() {
        if (engine != null) return engine;
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        try {
            engine = Engine.getEngine("PyTorch");
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new IllegalStateException("libtorch could not be loaded through DJL " + Engine.getDjlVersion()
                    + " (offline; needs ai.djl.pytorch:pytorch-native-cpu and pytorch-jni on the class path, and a"
                    + " writable engine cache, ~/.djl.ai or ENGINE_CACHE_DIR): " + e, e);
        }
        return engine;
    }

    public static String describe() {
        Engine e = get();
        return "libtorch " + e.getVersion() + " via DJL " + Engine.getDjlVersion();
    }
}
