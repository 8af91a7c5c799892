package dev.shiftaddvit.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.shiftaddvit.onnx.OnnxExporter;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime Java on our exported ONNX graph: one session with {@code threads} intra-op threads,
 * sequential execution and all graph optimisations, as its documentation recommends for CPU latency.
 * Its intra-op pool keeps its default (spinning) behaviour.
 */
final class OrtRunner implements ModelRunner {
    private final OrtSession session;
    private final List<OnnxTensor> tensors = new ArrayList<>();

    OrtRunner(OrtEnvironment env, byte[] onnx, int threads, List<BenchImages> inputs) throws OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(onnx, opts);
        }
        for (BenchImages in : inputs) {
            tensors.add(OnnxTensor.createTensor(env, FloatBuffer.wrap(in.nchw()), in.nchwShape()));
        }
    }

    @Override
    public float[] run(int input) throws OrtException {
        try (OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, tensors.get(input)))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            return out;
        }
    }

    @Override
    public void close() throws OrtException {
        for (OnnxTensor t : tensors) t.close();
        session.close();
    }
}
