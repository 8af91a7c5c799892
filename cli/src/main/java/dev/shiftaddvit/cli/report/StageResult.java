package dev.shiftaddvit.cli.report;

import java.util.List;
import java.util.Objects;

/**
 * What one pipeline stage produced and how it measured.
 *
 * @param stage                     "dense", "attn", "moe" or "deployed"
 * @param modelFile                 path of the stage's model file
 * @param top1                      top-1 accuracy in percent on {@code evalImages} test images
 * @param evalImages                how many test images top-1 was measured on
 * @param imagesPerSecond           inference throughput at batch 32
 * @param latencyMs                 median batch-1 latency
 * @param multsPerImage             multiplications per image
 * @param addsPerImage              additions per image
 * @param shiftsPerImage            bit shifts per image
 * @param energyMicrojoulesPerImage modelled compute energy per image
 * @param weightBytes               size of the packed weights
 * @param shiftTokenShare           share of tokens the MoE routed to the shift expert, 0..1; NaN without MoE
 * @param epochs                    fine-tune epochs of this stage, 0 for dense
 * @param trainMinutes              wall-clock fine-tune time
 * @param history                   the fine-tune curve, possibly empty
 */
public record StageResult(String stage, String modelFile, double top1, int evalImages, double imagesPerSecond,
                          double latencyMs, long multsPerImage, long addsPerImage, long shiftsPerImage,
                          double energyMicrojoulesPerImage, long weightBytes, double shiftTokenShare, int epochs,
                          double trainMinutes, List<EpochPoint> history) {
    public StageResult {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(modelFile, "modelFile");
        if (stage.isBlank()) throw new IllegalArgumentException("stage name must not be blank");
        if (evalImages < 0 || multsPerImage < 0 || addsPerImage < 0 || shiftsPerImage < 0 || weightBytes < 0
                || epochs < 0) {
            throw new IllegalArgumentException(stage
                    + ": image, operation, byte and epoch counts must not be negative");
        }
        if (shiftTokenShare < 0 || shiftTokenShare > 1) {
            throw new IllegalArgumentException(stage + ": shift-token share must be in [0, 1] or NaN, got "
                    + shiftTokenShare);
        }
        history = List.copyOf(history);
    }
}
