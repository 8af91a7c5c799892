package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV1Config;
import dev.shiftaddvit.model.PvtV2Config;
import dev.shiftaddvit.model.VitConfig;

/** A reference model in libtorch with a copy of one of our models' weights. */
public interface TorchModel {
    /** Logits [B, classes] for normalised NHWC images [B, H, W, C]. */
    NDArray forward(NDArray imagesNhwc);

    TorchParams params();

    /** The reference for our model, with its current weights copied into manager. */
    static TorchModel of(Model model, NDManager manager) {
        TorchParams p = TorchParams.copyOf(manager, model.parameters());
        return switch (model.config()) {
            case VitConfig c -> new TorchVit(c, p);
            case PvtV2Config c -> new TorchPvtV2(c, p);
            case PvtV1Config c -> new TorchPvtV1(c, p);
        };
    }
}
