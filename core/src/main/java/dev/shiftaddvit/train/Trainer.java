package dev.shiftaddvit.train;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.Batch;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.eval.Evaluation;
import dev.shiftaddvit.eval.Evaluator;
import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.tensor.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;

/**
 * The training loop: seeded shuffled batches prepared ahead, forward, label-smoothed cross-entropy,
 * backward, global-norm clipping, AdamW with warm-up + cosine; evaluation and an atomic checkpoint
 * after every epoch (and every checkpointEvery steps); resumes exactly from a checkpoint.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** Receives progress; the CLI draws a progress bar from it. */
    public interface Listener {
        default void onEpochStart(int epoch, int steps, int firstStep) {
        }

        default void onStep(StepStats s) {
        }

        default void onEpochEnd(EpochStats s) {
        }
    }

    public record StepStats(int epoch, int step, int steps, float loss, float accuracy, double imagesPerSecond,
                            float lr) {
    }

    public record EpochStats(int epoch, double trainLoss, double trainAccuracy, Evaluation eval, double seconds) {
    }

    private final Model model;
    private final TrainConfig cfg;
    private final BatchSource train;
    private final BatchSource test;
    private final Path checkpoint;
    private final Map<String, String> extraMeta;
    private final Listener listener;
    private final List<Parameter> params;
    private final AdamW opt;
    private int checkpointEvery;
    private Teacher teacher;

    public Trainer(Model model, TrainConfig cfg, BatchSource train, BatchSource test, Path checkpoint,
                   Map<String, String> extraMeta, Listener listener) {
        this.model = model;
        this.cfg = cfg;
        this.train = train;
        this.test = test;
        this.checkpoint = checkpoint;
        this.extraMeta = extraMeta;
        this.listener = listener == null ? new Listener() { } : listener;
        this.params = model.parameters();
        this.opt = new AdamW(params, 0.9f, 0.999f, 1e-8f, cfg.weightDecay());
        if (train.stepsPerEpoch(cfg.batchSize()) == 0) {
            throw new IllegalArgumentException("batch size " + cfg.batchSize() + " exceeds the " + train.size()
                    + " training images");
        }
    }

    public Trainer checkpointEvery(int steps) {
        this.checkpointEvery = steps;
        return this;
    }

    /** Distils from the parent on every step; its forward counts in the step's images/s. */
    public Trainer distillFrom(Teacher t) {
        this.teacher = t;
        return this;
    }

    public AdamW optimizer() {
        return opt;
    }

    /** Trains from (epoch, stepInEpoch) to the end; returns the last epoch's statistics. */
    public EpochStats run(int startEpoch, int startStep) {
        int steps = train.stepsPerEpoch(cfg.batchSize());
        long total = (long) steps * cfg.epochs();
        LrSchedule schedule = new LrSchedule(cfg.lr(), cfg.minLr(), Math.round(cfg.warmupEpochs() * steps), total);
        EpochStats last = null;
        int classes = model.config().numClasses();
        if (teacher != null) teacher.attach(model);
        try {
            for (int epoch = startEpoch; epoch < cfg.epochs(); epoch++) last = epoch(epoch, startEpoch, startStep,
                    steps, schedule, classes);
        } finally {
            if (teacher != null) teacher.detach();
        }
        return last;
    }

    private EpochStats epoch(int epoch, int startEpoch, int startStep, int steps, LrSchedule schedule, int classes) {
        int first = epoch == startEpoch ? startStep : 0;
        listener.onEpochStart(epoch, steps, first);
        BlockingQueue<Batch> queue = train.prefetch(cfg.seed(), epoch, first, cfg.batchSize(), cfg.augment());
        long epochStart = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        for (int s = first; s < steps; s++) {
            Batch b = take(queue);
            long t0 = System.nanoTime();
            for (Parameter p : params) p.zeroGrad();
            Tensor parentLogits = teacher == null ? null : teacher.observe(b.images());
            Tensor logits = model.forward(b.images(), true);
            Tensor dlogits = Tensor.zeros(logits.shape());
            float loss = CrossEntropy.forwardBackward(logits.data(), b.labels(), b.size(), classes,
                    cfg.labelSmoothing(), dlogits.data());
            if (teacher != null) loss = teacher.loss(loss, logits, parentLogits, b.labels(), dlogits.data());
            // MoE layers add their latency-aware balance loss; its gradient is applied in their backward.
            loss += (float) Reparam.balanceLoss(model);
            long globalStep = (long) epoch * steps + s;
            if (!Float.isFinite(loss)) throw diverged("loss is " + loss, epoch, s);
            model.backward(dlogits);
            double norm = clip();
            if (!Double.isFinite(norm)) throw diverged("gradient norm is " + norm, epoch, s);
            float lr = schedule.at(globalStep);
            opt.step(lr);
            int c = Evaluator.countCorrect(logits.data(), b.labels(), classes);
            lossSum += loss * b.size();
            correct += c;
            seen += b.size();
            double ips = b.size() / ((System.nanoTime() - t0) / 1e9);
            listener.onStep(new StepStats(epoch, s + 1, steps, loss, 100f * c / b.size(), ips, lr));
            if (checkpointEvery > 0 && (s + 1) % checkpointEvery == 0 && s + 1 < steps) save(epoch, s + 1, null);
        }
        Evaluation eval = test == null ? null : Evaluator.evaluate(model, test, 256, null);
        double secs = (System.nanoTime() - epochStart) / 1e9;
        EpochStats last = new EpochStats(epoch, seen == 0 ? 0 : lossSum / seen, seen == 0 ? 0 : 100.0 * correct / seen,
                eval, secs);
        save(epoch + 1, 0, eval);
        listener.onEpochEnd(last);
        LOG.info("epoch {} done: train loss {}, train acc {}%, test top-1 {}, {} s", epoch + 1,
                String.format("%.4f", last.trainLoss()), String.format("%.2f", last.trainAccuracy()),
                eval == null ? "n/a" : String.format("%.2f%%", eval.top1()), String.format("%.1f", secs));
        return last;
    }

    private double clip() {
        double sq = 0;
        for (Parameter p : params) sq += Ops.sumSquares(p.grad().data(), p.grad().size());
        double norm = Math.sqrt(sq);
        if (cfg.clipNorm() > 0 && norm > cfg.clipNorm()) {
            float s = (float) (cfg.clipNorm() / (norm + 1e-6));
            for (Parameter p : params) Ops.scale(p.grad().data(), s, p.grad().size());
        }
        return norm;
    }

    private TrainingDivergedException diverged(String what, int epoch, int step) {
        String where = "training diverged at epoch " + (epoch + 1) + ", step " + (step + 1) + ": " + what;
        if (checkpoint == null || !Files.exists(checkpoint)) {
            return new TrainingDivergedException(where + "; no checkpoint was written before it (train again with a "
                    + "lower --lr or a longer --warmup)");
        }
        return new TrainingDivergedException(where + "; the last good weights are kept in " + checkpoint
                + " (continue from them with --init " + checkpoint + " and a lower --lr or a longer --warmup)");
    }

    private void save(int nextEpoch, int nextStep, Evaluation eval) {
        if (checkpoint == null) return;
        Map<String, String> meta = new LinkedHashMap<>(extraMeta);
        meta.putAll(cfg.toMetadata());
        meta.put(CheckpointKeys.TRAIN_NEXT_EPOCH, Integer.toString(nextEpoch));
        meta.put(CheckpointKeys.TRAIN_NEXT_STEP, Integer.toString(nextStep));
        meta.put(CheckpointKeys.TRAIN_OPTIMIZER_STEP, Long.toString(opt.step()));
        // Every random draw is a pure function of (seed, epoch, sample index), so this is the whole RNG state.
        meta.put(CheckpointKeys.TRAIN_RNG_STATE, "seed=" + cfg.seed() + ",epoch=" + nextEpoch + ",step=" + nextStep);
        if (eval != null) meta.put(CheckpointKeys.EVAL_TOP1, String.format("%.2f", eval.top1()));
        try {
            Checkpoints.save(checkpoint, model, opt.state(), meta);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + checkpoint, e);
        }
    }

    private static Batch take(BlockingQueue<Batch> q) {
        try {
            return q.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        }
    }
}
