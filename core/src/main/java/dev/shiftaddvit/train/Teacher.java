package dev.shiftaddvit.train;

import dev.shiftaddvit.kernel.CrossEntropy;
import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.ModelConfig;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.BlockProbe;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * The dense parent as the teacher of a fine-tune ({@link DistillConfig}): on every training batch it
 * runs in inference mode on the same augmented images, and its logits (and, with block matching, its
 * block outputs) become extra loss terms of the student.
 */
public final class Teacher {
    private final Model parent;
    private final DistillConfig cfg;
    private final String source;
    private final Predicate<Block> matched;
    private Tensor[] parentOutputs;
    private Model student;
    private int matchedBlocks;
    private double blockLoss;

    /**
     * @param source names the parent in messages (its file)
     */
    public Teacher(Model parent, DistillConfig cfg, String source) {
        this(parent, cfg, source, Reparam::converted);
    }

    /** With {@code matched} choosing the student blocks that block matching pulls (tests match dense blocks). */
    Teacher(Model parent, DistillConfig cfg, String source, Predicate<Block> matched) {
        this.parent = parent;
        this.cfg = cfg;
        this.source = source;
        this.matched = matched;
    }

    public DistillConfig config() {
        return cfg;
    }

    public String source() {
        return source;
    }

    /**
     * Binds the student: it must classify the same images into the same classes through as many blocks.
     * With block matching, each converted student block gets a probe pulling it towards the parent's.
     *
     * @throws IllegalArgumentException naming the teacher when the two models do not match
     */
    public void attach(Model student) {
        ModelConfig p = parent.config();
        ModelConfig s = student.config();
        List<Block> pb = parent.blocks();
        List<Block> sb = student.blocks();
        if (p.numClasses() != s.numClasses() || p.imgSize() != s.imgSize() || p.inChans() != s.inChans()
                || pb.size() != sb.size()) {
            throw new IllegalArgumentException("teacher " + source + " (" + p.name() + ": " + p.imgSize() + " px, "
                    + p.inChans() + " channels, " + p.numClasses() + " classes, " + pb.size() + " blocks) does not match "
                    + "the model being fine-tuned (" + s.name() + ": " + s.imgSize() + " px, " + s.inChans()
                    + " channels, " + s.numClasses() + " classes, " + sb.size() + " blocks)");
        }
        this.student = student;
        if (cfg.blockWeight() == 0) return;
        parentOutputs = new Tensor[pb.size()];
        matchedBlocks = 0;
        for (Block b : sb) if (matched.test(b)) matchedBlocks++;
        for (int i = 0; i < pb.size(); i++) {
            int block = i;
            pb.get(i).setProbe(new BlockProbe() {
                @Override
                public void forwarded(Tensor y, boolean training) {
                    parentOutputs[block] = y.copy();
                }

                @Override
                public Tensor extraGradient() {
                    return null;
                }
            });
            if (matched.test(sb.get(i))) sb.get(i).setProbe(new MatchProbe(block));
        }
    }

    /** Removes the probes {@link #attach} set. */
    public void detach() {
        for (Block b : parent.blocks()) b.setProbe(null);
        if (student != null) for (Block b : student.blocks()) b.setProbe(null);
        student = null;
        parentOutputs = null;
    }

    /** The parent's logits on a training batch (inference mode); call before the student's forward. */
    public Tensor observe(Tensor images) {
        blockLoss = 0;
        return parent.forward(images, false);
    }

    /**
     * The distilled loss of one batch. {@code dlogits} holds d(ce)/d(logits) on entry and the gradient of the
     * returned loss on exit; the block-matching gradients wait in the probes for the student's backward.
     */
    public float loss(float ce, Tensor logits, Tensor parentLogits, int[] labels, float[] dlogits) {
        int batch = logits.dim(0);
        int classes = logits.dim(1);
        float w = cfg.weight();
        float loss = ce;
        switch (cfg.kind()) {
            case NONE -> { }
            case SOFT -> {
                Ops.scale(dlogits, 1 - w, dlogits.length);
                float kd = SoftTargets.forwardBackward(logits.data(), parentLogits.data(), batch, classes,
                        cfg.temperature(), w, dlogits);
                loss = (1 - w) * ce + w * kd;
            }
            case HARD -> {
                int[] parentLabels = argmax(parentLogits.data(), batch, classes);
                float[] dHard = new float[dlogits.length];
                float hard = CrossEntropy.forwardBackward(logits.data(), parentLabels, batch, classes, 0f, dHard);
                for (int i = 0; i < dlogits.length; i++) dlogits[i] = (1 - w) * dlogits[i] + w * dHard[i];
                loss = (1 - w) * ce + w * hard;
            }
        }
        return loss + (float) blockLoss;
    }

    /** The block-matching term of the last training forward (0 without block matching). */
    public double blockLoss() {
        return blockLoss;
    }

    private static int[] argmax(float[] z, int batch, int classes) {
        int[] out = new int[batch];
        for (int r = 0; r < batch; r++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (z[r * classes + c] > z[r * classes + best]) best = c;
            out[r] = best;
        }
        return out;
    }

    /** β/n·MSE(y, parent's output) on a training forward, its gradient for the backward. */
    private final class MatchProbe implements BlockProbe {
        private final int block;
        private Tensor grad;

        MatchProbe(int block) {
            this.block = block;
        }

        @Override
        public void forwarded(Tensor y, boolean training) {
            grad = null;
            if (!training) return;
            Tensor t = parentOutputs[block];
            if (t == null) throw new IllegalStateException("block matching: the teacher has not seen this batch");
            if (!Arrays.equals(t.shape(), y.shape())) {
                throw new ShapeException("block matching: block " + block + " gives " + y + " but teacher " + source
                        + " gives " + t);
            }
            float[] yd = y.data();
            float[] td = t.data();
            int n = yd.length;
            double perElement = cfg.blockWeight() / (double) matchedBlocks / n;
            grad = Tensor.zeros(y.shape());
            float[] g = grad.data();
            double sq = 0;
            for (int i = 0; i < n; i++) {
                float d = yd[i] - td[i];
                sq += (double) d * d;
                g[i] = (float) (2 * perElement * d);
            }
            blockLoss += perElement * sq;
        }

        @Override
        public Tensor extraGradient() {
            return grad;
        }
    }
}
