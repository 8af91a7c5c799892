package dev.shiftaddvit.width;

import dev.shiftaddvit.data.Augment;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.Dataset;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.eval.Evaluation;
import dev.shiftaddvit.eval.Evaluator;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.train.TrainConfig;
import dev.shiftaddvit.train.Trainer;

import java.util.Map;
import java.util.zip.CRC32;

/**
 * A few training steps of the default model (pvt_v2_fmnist, the CLI's training hyper-parameters at
 * batch 32) on the bundled sample, at whatever width this JVM runs. Prints one "key value" line per
 * figure on stdout: the width, the loss of every step, the held-out loss after training and a CRC-32
 * of the trained weights' bits. {@link TrainingAgreesAcrossWidthsTest} runs it in one JVM per width
 * and compares the lines.
 */
public final class ShortTrainingRun {
    static final int STEPS = 4;
    static final int BATCH = 32;

    private ShortTrainingRun() {
    }

    public static void main(String[] args) {
        ModelConfig cfg = Configs.byName("pvt_v2_fmnist");
        Model model = cfg.build(7);
        Dataset sample = FashionMnist.bundledSample();
        BatchSource train = new BatchSource(sample.subset(0, STEPS * BATCH), cfg.mean(), cfg.std());
        BatchSource held = new BatchSource(sample.subset(900, 1000), cfg.mean(), cfg.std());
        TrainConfig tc = new TrainConfig(1, BATCH, 2e-3f, 1e-5f, 0.5f, 0.05f, 0.1f, 1f, new Augment(2, true, 0.25f), 11);
        System.out.println("bits " + VectorWidth.BITS);
        new Trainer(model, tc, train, null, null, Map.of(), new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepStats s) {
                System.out.println("loss" + s.step() + " " + s.loss());
            }
        }).run(0, 0);
        Evaluation e = Evaluator.evaluate(model, held, 100, null);
        System.out.println("heldout " + e.loss());
        CRC32 crc = new CRC32();
        for (Parameter p : model.parameters()) {
            for (float v : p.value().data()) {
                int bits = Float.floatToRawIntBits(v);
                crc.update(new byte[]{(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)});
            }
        }
        System.out.println("weights " + Long.toHexString(crc.getValue()));
    }
}
