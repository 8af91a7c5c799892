package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.CheckpointKeys;
import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.io.AtomicFiles;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.io.OutputFileException;
import dev.shiftaddvit.kernel.Parallel;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.train.Teacher;
import dev.shiftaddvit.train.TrainConfig;
import dev.shiftaddvit.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One training or fine-tuning run shared by train, finetune and pipeline: progress, checkpoints, resume, final file. */
final class TrainRun {
    /**
     * Training and test images: Fashion-MNIST, or a user's class folders ({@code --images}).
     *
     * @param source    the directory they come from, recorded as train.data
     * @param costImages what operation counts are measured on: the bundled Fashion-MNIST sample (as
     *                  demo and cost use), or the test images of a folder
     * @param classNames one name per label, recorded in the trained model so that predict and serve name
     *                   its classes: the folders', the IDX directory's {@value FashionMnist#CLASS_NAMES_FILE},
     *                   Fashion-MNIST's for its own data, else "class N"
     */
    record Data(Path source, LabeledImages train, LabeledImages test, LabeledImages costImages,
                List<String> classNames) {
        /** Fashion-MNIST train and test sets, optionally cut to their first images (smoke runs). */
        static Data fashionMnist(Path flag, Integer limit, Integer evalLimit) {
            Path dir = DefaultModels.dataDir(flag).orElseThrow(() -> new IllegalArgumentException(
                    "Fashion-MNIST not found in " + FashionMnist.DEFAULT_DIR
                            + "; install it (apt-get install dataset-fashion-mnist) or pass --data DIR"));
            // Only the images a smoke run uses are read, so that a cut run never inflates the whole files.
            Dataset train = FashionMnist.load(dir, FashionMnist.Split.TRAIN, limit == null ? Integer.MAX_VALUE : limit);
            Dataset test = FashionMnist.load(dir, FashionMnist.Split.TEST,
                    evalLimit == null ? Integer.MAX_VALUE : evalLimit);
            return new Data(dir, train, test, FashionMnist.bundledSample(), DefaultModels.idxClassNames(flag, dir));
        }
    }

    private TrainRun() {
    }

    /** This run's epochs as "epoch:loss:acc:top1" (1-based), ';'-separated. */
    static String history(List<Trainer.EpochStats> epochs) {
        StringBuilder sb = new StringBuilder();
        for (Trainer.EpochStats e : epochs) {
            if (!sb.isEmpty()) sb.append(';');
            sb.append(e.epoch() + 1).append(':').append(String.format(java.util.Locale.ROOT, "%.4f:%.2f:%.2f",
                    e.trainLoss(), e.trainAccuracy(), e.eval() == null ? Double.NaN : e.eval().top1()));
        }
        return sb.toString();
    }

    /** Fails before the first step when the model or its checkpoint could not be written. */
    static void requireWritable(Path out, Path ckpt) throws OutputFileException {
        AtomicFiles.requireWritable(out);
        AtomicFiles.requireWritable(ckpt);
    }

    /** The training checkpoint beside an output file. */
    static Path checkpointFor(Path out) {
        return out.resolveSibling(out.getFileName() + ".ckpt");
    }

    /** The checkpoint --resume continues from; callers load it first because the data depend on its model. */
    static Checkpoints.Loaded resumeFrom(Path ckpt) {
        if (!Files.exists(ckpt)) throw new IllegalArgumentException("--resume: no checkpoint at " + ckpt);
        return Checkpoints.load(ckpt);
    }

    /** The flag behind each metadata entry that decides what a run computes. */
    private static final Map<String, String> FLAGS = Map.ofEntries(
            Map.entry(CheckpointKeys.TRAIN_EPOCHS, "--epochs"), Map.entry(CheckpointKeys.TRAIN_BATCH_SIZE, "--batch-size"),
            Map.entry(CheckpointKeys.TRAIN_LR, "--lr"), Map.entry(CheckpointKeys.TRAIN_MIN_LR, "--min-lr"),
            Map.entry(CheckpointKeys.TRAIN_WARMUP_EPOCHS, "--warmup"),
            Map.entry(CheckpointKeys.TRAIN_WEIGHT_DECAY, "--weight-decay"),
            Map.entry(CheckpointKeys.TRAIN_LABEL_SMOOTHING, "--label-smoothing"),
            Map.entry(CheckpointKeys.TRAIN_CLIP_NORM, "--clip"),
            Map.entry(CheckpointKeys.TRAIN_AUGMENT, "--crop-pad/--no-flip/--erase"),
            Map.entry(CheckpointKeys.TRAIN_SEED, "--seed"), Map.entry(CheckpointKeys.TRAIN_IMAGES, "--limit"),
            Map.entry(CheckpointKeys.TRAIN_DATA, "--data/--images"), Map.entry(CheckpointKeys.TRAIN_INIT, "--model"),
            Map.entry(CheckpointKeys.TRAIN_DISTILL, "--distill/--distill-temperature/--distill-weight/--block-match"),
            Map.entry(CheckpointKeys.TRAIN_TEACHER, "--teacher"));

    /** What decides this run's result: the hyper-parameters, the training images and, where recorded, data and start. */
    private static Map<String, String> runMetadata(TrainConfig tc, Map<String, String> meta) {
        Map<String, String> run = new LinkedHashMap<>(tc.toMetadata());
        for (String k : List.of(CheckpointKeys.TRAIN_IMAGES, CheckpointKeys.TRAIN_DATA, CheckpointKeys.TRAIN_INIT,
                CheckpointKeys.TRAIN_DISTILL, CheckpointKeys.TRAIN_TEACHER)) {
            if (meta.containsKey(k)) run.put(k, meta.get(k));
        }
        return run;
    }

    /**
     * Refuses to resume a checkpoint with different settings: the rest of the run would not be the run the
     * checkpoint belongs to (a different batch size or image count even skips the rest of the epoch).
     * Entries an older checkpoint does not record are not compared.
     */
    static void requireSameRun(Map<String, String> checkpoint, Map<String, String> now, Path ckpt) {
        List<String> differ = new ArrayList<>();
        for (Map.Entry<String, String> e : now.entrySet()) {
            String then = checkpoint.get(e.getKey());
            if (then != null && !then.equals(e.getValue())) {
                differ.add(FLAGS.getOrDefault(e.getKey(), e.getKey()) + " is " + then + " there and " + e.getValue()
                        + " now");
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("--resume: " + ckpt + " belongs to a different run: "
                    + String.join("; ", differ) + ". Run again with the same settings, or delete it to start afresh");
        }
    }

    /**
     * Trains {@code model} and writes {@code out} with {@code meta} plus the hyper-parameters and the final top-1.
     * With {@code resumed} (the {@link #resumeFrom} of {@code ckpt}, whose model {@code model} is), training
     * continues at its epoch and step with its optimizer state. With a {@code teacher} (null: none) every step
     * also learns from the parent, and the run records how.
     */
    static void run(Model model, Checkpoints.Loaded resumed, TrainConfig tc, Data data, Path out, Path ckpt, int checkpointEvery, Map<String, String> meta,
                    Teacher teacher) throws IOException {
        int startEpoch = 0;
        int startStep = 0;
        LabeledImages trainSet = data.train();
        meta.put(CheckpointKeys.TRAIN_IMAGES, Integer.toString(trainSet.n()));
        if (teacher != null) {
            meta.putAll(teacher.config().toMetadata());
            meta.put(CheckpointKeys.TRAIN_TEACHER, teacher.source());
        }
        meta.put(CheckpointKeys.CLASS_NAMES, Json.write(data.classNames()));
        if (resumed != null) {
            requireSameRun(resumed.metadata(), runMetadata(tc, meta), ckpt);
            startEpoch = resumed.nextEpoch();
            startStep = resumed.nextStep();
            System.err.printf("resuming %s from %s at epoch %d, step %d%n", model.config().name(), ckpt,
                    startEpoch + 1, startStep);
        }
        ModelConfig mc = model.config();
        BatchSource train = new BatchSource(trainSet, mc.mean(), mc.std());
        BatchSource test = new BatchSource(data.test(), mc.mean(), mc.std());
        System.err.printf("training %s [%s] (%,d parameters) on %,d images, %d epochs, batch %d, lr %s, seed %d, "
                        + "%d threads%n", mc.name(), model.shiftAdd().stage(), model.parameterCount(), trainSet.n(),
                tc.epochs(), tc.batchSize(), tc.lr(), tc.seed(), Parallel.threads());
        if (teacher != null) System.err.printf("distilling from %s (%s)%n", teacher.source(),
                teacher.config().toMetadata().get(CheckpointKeys.TRAIN_DISTILL));
        long t0 = System.nanoTime();
        List<Trainer.EpochStats> epochs = new ArrayList<>();
        TrainProgress progress = new TrainProgress(tc.epochs());
        Trainer.Listener listener = new Trainer.Listener() {
            @Override
            public void onEpochStart(int epoch, int steps, int firstStep) {
                progress.onEpochStart(epoch, steps, firstStep);
            }

            @Override
            public void onStep(Trainer.StepStats s) {
                progress.onStep(s);
            }

            @Override
            public void onEpochEnd(Trainer.EpochStats s) {
                progress.onEpochEnd(s);
                epochs.add(s);
            }
        };
        Trainer trainer = new Trainer(model, tc, train, test, ckpt, meta, listener).checkpointEvery(checkpointEvery)
                .distillFrom(teacher);
        if (resumed != null) trainer.optimizer().restore(resumed.optimizerStep(), resumed.extras(), ckpt.toString());
        try {
            trainer.run(startEpoch, startStep);
        } finally {
            progress.close();
        }
        double minutes = (System.nanoTime() - t0) / 6e10;
        meta.putAll(tc.toMetadata());
        meta.put(CheckpointKeys.TRAIN_MINUTES_THIS_RUN, String.format("%.1f", minutes));
        meta.put(CheckpointKeys.TRAIN_HISTORY, history(epochs));
        Trainer.EpochStats last = epochs.isEmpty() ? null : epochs.getLast();
        if (last != null && last.eval() != null) {
            meta.put(CheckpointKeys.EVAL_TOP1, String.format("%.2f", last.eval().top1()));
            meta.put(CheckpointKeys.EVAL_IMAGES, Integer.toString(last.eval().images()));
        }
        Checkpoints.save(out, model, null, meta);
        System.err.printf("wrote %s (%.1f min)%n", out, minutes);
        if (last != null && last.eval() != null) {
            System.out.printf("top-1 %.2f%% on %d test images%n", last.eval().top1(), last.eval().images());
        }
    }
}
