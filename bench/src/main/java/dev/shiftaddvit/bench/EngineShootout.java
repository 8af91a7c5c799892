package dev.shiftaddvit.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.onnx.OnnxExporter;
import dev.shiftaddvit.tensor.Tensor;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Our dense engine against ONNX Runtime Java running our exported ONNX graph of the same model (same
 * random weights, same images, same thread count): batch-1 latency (median) and batch-32 throughput
 * (images per second at the median batch time). The two engines are sampled in alternation, so a
 * load change on the shared machine hits both. Before timing, the logits are compared.
 *
 * <p>Options: {@code --models=deit_tiny,pvt_v2_b0}, {@code --threads=2}, {@code --samples=N} (batch-1
 * calls per engine; batch 32 takes a quarter as many), {@code --batch=32}.
 */
public final class EngineShootout {
    private EngineShootout() {
    }

    /** One engine's forward on a fixed batch. */
    private interface Engine {
        float[] run() throws OrtException;
    }

    public static void main(String[] args) throws Exception {
        List<String> models = List.of("deit_tiny", "pvt_v2_b0");
        int threads = 2;
        int samples = 41;
        int batch = 32;
        for (String arg : args) {
            if (arg.startsWith("--models=")) models = List.of(arg.substring(9).split(","));
            else if (arg.startsWith("--threads=")) threads = Integer.parseInt(arg.substring(10));
            else if (arg.startsWith("--samples=")) samples = Integer.parseInt(arg.substring(10));
            else if (arg.startsWith("--batch=")) batch = Integer.parseInt(arg.substring(8));
            else throw new IllegalArgumentException("unknown option " + arg);
        }
        Parallel.setThreads(threads);
        String loadBefore = GemmShootout.uptime();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        StringBuilder table = new StringBuilder();
        table.append("| model | engine | batch 1 latency, median ms | batch ").append(batch)
                .append(" img/s | ours / ORT speed (b1, b").append(batch).append(") | max abs Δ logit |\n");
        table.append("|---|---|---:|---:|---:|---:|\n");
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            for (String name : models) {
                Model model = Configs.byName(name).build(0);
                try (OrtSession session = env.createSession(OnnxExporter.export(model).toByteArray(), opts)) {
                    double[] one = compare(env, session, model, 1, samples);
                    double[] many = compare(env, session, model, batch, Math.max(5, samples / 4));
                    double oursB1 = one[0] * 1e3;
                    double ortB1 = one[1] * 1e3;
                    double oursIps = batch / many[0];
                    double ortIps = batch / many[1];
                    double diff = Math.max(one[2], many[2]);
                    table.append(String.format(Locale.ROOT, "| %s | shiftaddvit-java | %.2f | %.1f | %.2f× / %.2f× | %.1e |%n",
                            name, oursB1, oursIps, ortB1 / oursB1, oursIps / ortIps, diff));
                    table.append(String.format(Locale.ROOT, "| %s | ONNX Runtime %s | %.2f | %.1f | 1 | |%n",
                            name, env.getVersion(), ortB1, ortIps));
                    System.err.printf(Locale.ROOT, "%s done (load %s)%n", name, GemmShootout.uptime());
                }
            }
        }
        System.out.printf(Locale.ROOT, "%s, JDK %s, %d threads; load average before / after: %s / %s%n%n",
                GemmShootout.cpuModel(), Runtime.version(), threads, loadBefore, GemmShootout.uptime());
        System.out.print(table);
    }

    /**
     * Median seconds per call of our engine and of ORT at one batch size, plus the max |Δ| between
     * their logits: warm-up, then one timed call of each in turn.
     */
    private static double[] compare(OrtEnvironment env, OrtSession session, Model model, int batch, int samples)
            throws OrtException {
        int s = model.config().imgSize();
        int c = model.config().inChans();
        float[] nhwc = new float[batch * s * s * c];
        SplittableRandom rng = new SplittableRandom(batch);
        for (int i = 0; i < nhwc.length; i++) nhwc[i] = (float) (rng.nextDouble() * 4 - 2);
        Tensor images = Tensor.of(nhwc, batch, s, s, c);
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(nchw(nhwc, batch, s, c)),
                new long[]{batch, c, s, s})) {
            Engine ours = () -> model.forward(images, false).data();
            Engine ort = () -> {
                try (OrtSession.Result r = session.run(Map.of(OnnxExporter.INPUT, input))) {
                    FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                    float[] out = new float[fb.remaining()];
                    fb.get(out);
                    return out;
                }
            };
            float[] a = ours.run();
            float[] b = ort.run();
            double diff = 0;
            for (int i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
            for (int w = 0; w < 3; w++) {
                ours.run();
                ort.run();
            }
            double[] tOurs = new double[samples];
            double[] tOrt = new double[samples];
            for (int i = 0; i < samples; i++) {
                tOurs[i] = seconds(ours);
                tOrt[i] = seconds(ort);
            }
            return new double[]{median(tOurs), median(tOrt), diff};
        }
    }

    private static double seconds(Engine e) throws OrtException {
        long t0 = System.nanoTime();
        e.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(double[] t) {
        double[] s = t.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static float[] nchw(float[] nhwc, int b, int s, int c) {
        float[] out = new float[nhwc.length];
        for (int n = 0; n < b; n++) {
            for (int y = 0; y < s; y++) {
                for (int x = 0; x < s; x++) {
                    for (int ch = 0; ch < c; ch++) out[((n * c + ch) * s + y) * s + x] = nhwc[((n * s + y) * s + x) * c + ch];
                }
            }
        }
        return out;
    }
}
