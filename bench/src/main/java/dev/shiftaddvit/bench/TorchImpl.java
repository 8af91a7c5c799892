package dev.shiftaddvit.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * libtorch matmul through DJL. Works offline: the native library comes from the
 * pytorch-native-cpu jar and the JNI from the pytorch-jni jar on the classpath.
 */
final class TorchImpl implements GemmShootout.Impl {
    private static Engine engine;
    private final NDManager manager;

    TorchImpl(int threads) {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        engine = Engine.getEngine("PyTorch");
        manager = engine.newBaseManager(Device.cpu());
    }

    static String describe() {
        return "libtorch " + engine.getVersion() + " via DJL " + Engine.getDjlVersion() + " (offline), "
                + System.getProperty("ai.djl.pytorch.num_threads") + " intra-op threads";
    }

    @Override
    public String name() {
        return "libtorch";
    }

    @Override
    public GemmShootout.Runner prepare(GemmShootout.Shape s, float[] a, float[] b) {
        int m = s.m(), n = s.n(), k = s.k();
        NDManager sub = manager.newSubManager();
        NDArray ta = sub.create(a, s.form() == GemmShootout.Form.TN ? new Shape(k, m) : new Shape(m, k));
        NDArray tb = sub.create(b, s.form() == GemmShootout.Form.NT ? new Shape(n, k) : new Shape(k, n));
        // Transposed operands are strided views, so matmul passes a transpose flag to BLAS.
        NDArray left = s.form() == GemmShootout.Form.TN ? ta.transpose() : ta;
        NDArray right = s.form() == GemmShootout.Form.NT ? tb.transpose() : tb;
        return new GemmShootout.Runner() {
            NDArray last;

            @Override
            public void run() {
                NDArray c = left.matMul(right);
                if (last != null) last.close();
                last = c;
            }

            @Override
            public float[] result() {
                return last.toFloatArray();
            }

            @Override
            public void close() {
                sub.close();
            }
        };
    }
}
