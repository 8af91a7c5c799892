package dev.shiftaddvit.model;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.checkpoint.DeployFile;
import dev.shiftaddvit.data.BatchSource;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.eval.Agreement;
import dev.shiftaddvit.kernel.VectorWidth;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The embedded ShiftAddViT model, simulated and deployed through its deploy file, over the full Fashion-MNIST
 * test set: logits within {@link #LOGIT_TOLERANCE} and the top-1 class the same on every image.
 * Skipped where the model or the data set is not installed.
 *
 * <p>With the default GEMM shift kernel (exact power-of-two products on the float GEMM) the embedded model of
 * 2026-12-02 (distilled, 6 + 3 fine-tune epochs, 97.4% of tokens on Shift) gives the same logits on all 10,000
 * images (92.67% both, max |Δlogit| 0.0), as did the 3 + 2 epoch model before it (92.27%); the undistilled one
 * gave 92.20% both and 0.0042 with the exponent kernel (exact terms, the
 * simulation's own sums up to their order). The tolerance below covers the fixed-point kernel too ({@code -Dshiftaddvit.shift.kernel=fixed}).
 * Measured with it on the fine-tuned models/fmnist-shiftadd.safetensors (pipeline of 2026-11-21, 5.6% of tokens on
 * Shift): with MatShift rounding every term x·2^shift to the nearest 2^-16 (as the float simulation's exact
 * product is, up to half a unit), top-1 is the same on all 10,000 images (92.44% both) and the max |Δlogit| is
 * 0.037 (not analysed further; with the earlier kernel the tail came from router decisions near a tie that the
 * integer rounding flips: 133 of 26.1 M, the max dropping to 7.1e-3 with routers pinned). With the earlier
 * flooring kernel (a whole unit per term, one-sided) 2 images flipped (simulated top-2 margins 2.0e-3 and
 * 2.3e-4) and the max was 0.043. A flip needs a simulated margin below 2·|Δlogit|, so this pins the near ties
 * of this model; a retrained model may bring new ones.
 */
class DeployFullTestSetTest {
    private static final String MODEL = "models/fmnist-shiftadd.safetensors";
    /** Bound on max |Δlogit| over the test set: 2× the 0.037 measured (the maximum is set by routing flips). */
    static final double LOGIT_TOLERANCE = 0.075;
    /** Images whose top-1 may differ: none measured, none allowed. */
    static final int MAX_DIFFERING = 0;

    @Test
    void deployedDefaultModelPredictsLikeItsSimulationOnTheTestSet(@TempDir Path dir) throws Exception {
        // Tests run in the module directory; the models live at the repository root.
        Optional<Path> model = Stream.of(Path.of("..", MODEL), Path.of(MODEL)).filter(Files::isRegularFile).findFirst();
        Optional<Path> data = FashionMnist.findInstalled();
        assumeTrue(model.isPresent(), MODEL + " is not there");
        assumeTrue(data.isPresent() && FashionMnist.hasSplit(data.get(), FashionMnist.Split.TEST),
                "Fashion-MNIST is not installed");
        Checkpoints.Loaded loaded = Checkpoints.load(model.get());
        // Should the embedded model ever be a deploy file, its simulation is the float model of its codes.
        Model simulated = DeployFile.isDeployFile(loaded.metadata()) ? DeployFile.loadSimulated(model.get()).model()
                : loaded.model();
        Path file = dir.resolve("deploy.safetensors");
        DeployFile.save(file, simulated, Map.of());
        Model deployed = Checkpoints.load(file).model();
        // A width wider than the hardware runs in the Vector API's plain-Java fallback (1,000 images took
        // 110 s there against 2.8 s natively); the first 500 keep the run under a minute. The kernels'
        // arithmetic at that width is verified by the kernel tests.
        int images = VectorWidth.BITS > VectorWidth.hardwareBits() ? 500 : 10_000;
        BatchSource test = new BatchSource(FashionMnist.load(data.get(), FashionMnist.Split.TEST).subset(0, images),
                simulated.config().mean(), simulated.config().std());
        Agreement a = Agreement.measure(simulated, deployed, test, 256, null);
        System.out.printf("%s on %d test images: top-1 simulated %.2f%%, deployed %.2f%%, %d differ, max |dlogit| %.3g%n",
                MODEL, a.images(), a.top1A(), a.top1B(), a.differing(), a.maxAbsDiff());
        assertEquals(images, a.images());
        assertTrue(a.maxAbsDiff() < LOGIT_TOLERANCE, "max |dlogit| " + a.maxAbsDiff());
        // A flip needs a simulated margin below 2·max |Δlogit|, i.e. a near tie: none may flip.
        assertTrue(a.differing() <= MAX_DIFFERING, a.differing() + " images change their top-1");
    }
}
