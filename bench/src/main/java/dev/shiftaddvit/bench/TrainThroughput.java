package dev.shiftaddvit.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.kernel.Machine;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.parity.TorchAdamW;
import dev.shiftaddvit.parity.TorchEngine;
import dev.shiftaddvit.parity.TorchModel;
import dev.shiftaddvit.tensor.Tensor;
import dev.shiftaddvit.train.AdamW;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Training throughput, ours against libtorch (through DJL, offline) in one run: the same model
 * config, the same initial weights, the same random batch, the same thread count, and the same
 * work per step on both sides — forward, mean cross-entropy, backward, AdamW update. The libtorch
 * side is the parity tests' reference model (core's test-jar, package dev.shiftaddvit.parity).
 * Timed phases alternate between the engines so that a change in machine load hits both.
 * On a machine shared with other work, start it with {@code OMP_WAIT_POLICY=PASSIVE}: libtorch's
 * OpenMP threads otherwise spin at barriers and lose several times their speed when a core is
 * taken (libgomp reads the variable when libtorch loads, so it must be in the environment).
 *
 * <p>Usage: {@code TrainThroughput [config] [--batch=128] [--threads=2] [--warmup=3] [--steps=12]
 * [--rounds=3]}; config defaults to pvt_v2_fmnist.
 */
public final class TrainThroughput {
    private static final float LR = 1e-3f;
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPS = 1e-8f;
    private static final float WEIGHT_DECAY = 0.05f;

    private TrainThroughput() {
    }

    public static void main(String[] args) {
        String name = "pvt_v2_fmnist";
        int batch = 128;
        int threads = 2;
        int warmup = 3;
        int steps = 12;
        int rounds = 3;
        for (String a : args) {
            if (a.startsWith("--batch=")) batch = Integer.parseInt(a.substring(8));
            else if (a.startsWith("--threads=")) threads = Integer.parseInt(a.substring(10));
            else if (a.startsWith("--warmup=")) warmup = Integer.parseInt(a.substring(9));
            else if (a.startsWith("--steps=")) steps = Integer.parseInt(a.substring(8));
            else if (a.startsWith("--rounds=")) rounds = Integer.parseInt(a.substring(9));
            else if (a.startsWith("--")) throw new IllegalArgumentException("unknown option " + a);
            else name = a;
        }
        if (batch < 1 || threads < 1 || warmup < 0 || rounds < 1 || steps < rounds) {
            throw new IllegalArgumentException("need batch, threads, rounds >= 1, warmup >= 0 and steps >= rounds");
        }

        // Both engines get the same number of threads; set before libtorch is loaded.
        Parallel.setThreads(threads);
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine engine = TorchEngine.get();

        ModelConfig config = Configs.byName(name);
        Model model = config.build(1);
        int s = config.imgSize();
        int c = config.inChans();
        int classes = config.numClasses();
        SplittableRandom rng = new SplittableRandom(42);
        float[] images = new float[batch * s * s * c];
        for (int i = 0; i < images.length; i++) images[i] = (float) gaussian(rng);
        int[] labels = new int[batch];
        float[] oneHot = new float[batch * classes];
        for (int i = 0; i < batch; i++) {
            labels[i] = rng.nextInt(classes);
            oneHot[i * classes + labels[i]] = 1f;
        }

        try (NDManager base = engine.newBaseManager()) {
            // The reference copies the weights now, before either side has taken a step.
            TorchModel ref = TorchModel.of(model, base);
            Ours ours = new Ours(model, Tensor.of(images, batch, s, s, c), labels, classes);
            Torch torch = new Torch(engine, base, ref, images, new Shape(batch, s, s, c), base.create(oneHot,
                    new Shape(batch, classes)));

            System.out.printf(Locale.ROOT, "TrainThroughput: %s (%,d parameters), batch %d, %dx%dx%d inputs, "
                            + "%d threads each; AdamW lr %.0e wd %.2f%n", name, model.parameterCount(), batch, s,
                    s, c, threads, LR, WEIGHT_DECAY);
            System.out.println("  ours: Java " + Runtime.version() + ", " + Parallel.threads() + " pool threads");
            System.out.println("  peer: " + TorchEngine.describe() + ", " + System.getProperty(
                    "ai.djl.pytorch.num_threads") + " intra-op threads, OMP_WAIT_POLICY="
                    + System.getenv().getOrDefault("OMP_WAIT_POLICY", "(unset: libgomp spins)")
                    + ", reference model from dev.shiftaddvit.parity");
            System.out.println("  machine: " + Machine.describe() + ", load average at start: " + loadAverage());

            float ours0 = ours.step();
            float torch0 = torch.step();
            System.out.printf(Locale.ROOT, "  first-step loss: ours %.6f, libtorch %.6f%n", ours0, torch0);
            for (int i = 1; i < warmup; i++) {
                ours.step();
                torch.step();
            }

            long oursNs = 0;
            long torchNs = 0;
            int done = 0;
            float oursLoss = Float.NaN;
            float torchLoss = Float.NaN;
            for (int r = 0; r < rounds; r++) {
                int n = steps / rounds + (r < steps % rounds ? 1 : 0);
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) oursLoss = ours.step();
                long t1 = System.nanoTime();
                for (int i = 0; i < n; i++) torchLoss = torch.step();
                long t2 = System.nanoTime();
                oursNs += t1 - t0;
                torchNs += t2 - t1;
                done += n;
                System.out.printf(Locale.ROOT, "  round %d: %d steps, ours %.1f img/s, libtorch %.1f img/s%n", r + 1,
                        n, (double) n * batch / ((t1 - t0) * 1e-9), (double) n * batch / ((t2 - t1) * 1e-9));
            }
            double oursIps = (double) done * batch / (oursNs * 1e-9);
            double torchIps = (double) done * batch / (torchNs * 1e-9);
            System.out.printf(Locale.ROOT, "  loss after %d steps: ours %.6f, libtorch %.6f%n", warmup + done,
                    oursLoss, torchLoss);
            System.out.println("  load average at end: " + loadAverage());
            System.out.printf(Locale.ROOT, "RESULT %s batch=%d threads=%d steps=%d: ours %.1f img/s (%.1f ms/step),"
                            + " libtorch %.1f img/s (%.1f ms/step), ours/libtorch = %.2f%n", name, batch, threads,
                    done, oursIps, oursNs * 1e-6 / done, torchIps, torchNs * 1e-6 / done, oursIps / torchIps);
        }
    }

    /** Our engine: explicit forward/backward, fused cross-entropy, dev.shiftaddvit.train.AdamW. */
    private static final class Ours {
        private final Model model;
        private final Tensor images;
        private final int[] labels;
        private final int classes;
        private final AdamW optimizer;

        Ours(Model model, Tensor images, int[] labels, int classes) {
            this.model = model;
            this.images = images;
            this.labels = labels;
            this.classes = classes;
            this.optimizer = new AdamW(model.parameters(), BETA1, BETA2, EPS, WEIGHT_DECAY);
        }

        float step() {
            for (Parameter p : model.parameters()) p.zeroGrad();
            Tensor logits = model.forward(images, true);
            int b = logits.dim(0);
            float[] dlogits = new float[logits.size()];
            float loss = CrossEntropy.forwardBackward(logits.data(), labels, b, classes, 0f, dlogits);
            model.backward(Tensor.of(dlogits, b, classes));
            optimizer.step(LR);
            return loss;
        }
    }

    /** libtorch: the reference model under DJL autograd, mean cross-entropy via log-softmax, the same AdamW. */
    private static final class Torch {
        private final Engine engine;
        private final NDManager base;
        private final TorchModel model;
        private final float[] images;
        private final Shape shape;
        private final NDArray oneHot;
        private final TorchAdamW optimizer;

        Torch(Engine engine, NDManager base, TorchModel model, float[] images, Shape shape, NDArray oneHot) {
            this.engine = engine;
            this.base = base;
            this.model = model;
            this.images = images;
            this.shape = shape;
            this.oneHot = oneHot;
            this.optimizer = new TorchAdamW(model.params(), BETA1, BETA2, EPS, WEIGHT_DECAY);
        }

        float step() {
            // Every intermediate of the step lives in this manager and is freed with it.
            try (NDManager step = base.newSubManager()) {
                NDArray x = step.create(images, shape);
                NDArray loss;
                try (GradientCollector gc = engine.newGradientCollector()) {
                    NDArray logits = model.forward(x);
                    loss = logits.logSoftmax(1).mul(oneHot).sum().neg().div(shape.get(0));
                    gc.backward(loss);
                }
                float value = loss.getFloat();
                optimizer.step(LR);
                return value;
            }
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1.0 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
