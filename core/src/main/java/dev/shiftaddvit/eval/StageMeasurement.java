package dev.shiftaddvit.eval;

import dev.shiftaddvit.cost.CostReport;

/**
 * One model measured as a pipeline stage: test top-1, the share of MoE tokens routed to the Shift
 * expert during that evaluation (NaN without MoE layers), inference speed and operation counts.
 */
public record StageMeasurement(Evaluation evaluation, double shiftTokenShare, Speed.Result speed, CostReport cost) {
}
