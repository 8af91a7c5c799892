package dev.shiftaddvit.cli;

import dev.shiftaddvit.data.Batch;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.model.ShiftAddSpec;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.MoeLinear;

import java.util.Arrays;
import java.util.SplittableRandom;

/** The two reparameterisation stages as the CLI runs them: convert, then train KSH on one training batch. */
final class ReparamStage {
    private ReparamStage() {
    }

    /**
     * Stage attn; the hashes are trained on the first {@code hashImages} images of the seed's epoch-0 order, as the
     * evaluation transform shows them (no augmentation, centre crops of image files).
     */
    static ShiftAddSpec.Attn attn(Model model, Reparam.AttnOptions o, LabeledImages train, int hashImages, long seed) {
        ShiftAddSpec.Attn spec = Reparam.toAddAttention(model, o, new SplittableRandom(seed));
        if (o.layer().codes() == AddAttention.CodeKind.KSH) {
            BatchSource src = new BatchSource(train, model.config().mean(), model.config().std());
            Batch b = src.select(Arrays.copyOf(src.permutation(seed, 0), Math.min(hashImages, train.n())));
            long t0 = System.nanoTime();
            Reparam.trainHashes(model, b.images());
            System.err.printf("trained KSH hashes of %d blocks on %d images (%.1f s)%n", spec.blocks().size(), b.size(),
                    (System.nanoTime() - t0) / 1e9);
        }
        return spec;
    }

    /** Stage moe; prints the measured α of each distinct layer shape. */
    static ShiftAddSpec.Moe moe(Model model, Reparam.MoeOptions o, long seed) {
        long t0 = System.nanoTime();
        ShiftAddSpec.Moe spec = Reparam.toMoe(model, o, new SplittableRandom(seed));
        System.err.printf("converted %d linear layers to Mult/Shift MoE (%.1f s)%n", spec.layers().size(),
                (System.nanoTime() - t0) / 1e9);
        for (ShiftAddSpec.MoeLayer l : spec.layers()) {
            double[] ns = l.nanosPerToken();
            float[] a = l.alpha();
            String timed = !l.timed() ? "experts not timed"
                    : String.format("mult %7.1f ns/token  shift %7.1f ns/token", ns[MoeLinear.MULT], ns[MoeLinear.SHIFT]);
            System.err.printf("  %-34s %s  alpha %.3f / %.3f%n", l.name(), timed, a[MoeLinear.MULT], a[MoeLinear.SHIFT]);
        }
        return spec;
    }
}
