package dev.shiftaddvit.bench;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * libtorch through DJL (offline: native library and JNI from the jars on the classpath) running a
 * TorchScript file made by {@code scripts/make_torchscript.py}, in eval mode without autograd.
 *
 * <p>DJL turns libtorch's profiling graph executor on by default; here it is off unless
 * {@code -Dai.djl.pytorch.graph_optimizer=true} is given: with it, the first tens of calls at each new
 * batch size profile and re-optimise the graph (seconds per call), more than a benchmark block's
 * warm-up, and afterwards it ran no faster on these models (pvt_v2_b0: 22 ms and 66 ms at batch 1 and 4
 * with and without it).
 */
final class TorchScriptRunner implements ModelRunner {
    private static final String GRAPH_OPTIMIZER = "ai.djl.pytorch.graph_optimizer";
    private final Model model;
    private final ParameterStore store;
    private final List<NDArray> tensors = new ArrayList<>();

    /** file is DIR/NAME.pt; threads applies to the whole JVM's libtorch (fixed when the engine starts). */
    TorchScriptRunner(Path file, int threads, List<BenchImages> inputs) throws IOException, MalformedModelException {
        engine(threads);
        String name = file.getFileName().toString().replaceFirst("\\.pt$", "");
        model = Model.newInstance(name, Device.cpu(), "PyTorch");
        model.load(file.toAbsolutePath().getParent(), name);
        store = new ParameterStore(model.getNDManager(), false);
        for (BenchImages in : inputs) tensors.add(model.getNDManager().create(in.nchw(), new Shape(in.nchwShape())));
        // Autograd state is per thread in libtorch; every forward runs on this (the main) thread.
        JniUtils.setGradMode(false);
    }

    static Engine engine(int threads) {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        if (System.getProperty(GRAPH_OPTIMIZER) == null) System.setProperty(GRAPH_OPTIMIZER, "false");
        return Engine.getEngine("PyTorch");
    }

    static String describe() {
        return "libtorch " + Engine.getEngine("PyTorch").getVersion() + " (DJL " + Engine.getDjlVersion()
                + ", graph optimizer " + System.getProperty(GRAPH_OPTIMIZER) + ")";
    }

    @Override
    public float[] run(int input) {
        try (NDList out = model.getBlock().forward(store, new NDList(tensors.get(input)), false)) {
            return out.singletonOrThrow().toFloatArray();
        }
    }

    @Override
    public void close() {
        for (NDArray t : tensors) t.close();
        model.close();
    }
}
