package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;
import dev.shiftaddvit.model.PvtV2Config;

import static dev.shiftaddvit.parity.TorchOps.conv2d;
import static dev.shiftaddvit.parity.TorchOps.layerNorm;
import static dev.shiftaddvit.parity.TorchOps.linear;
import static dev.shiftaddvit.parity.TorchOps.mapToTokens;
import static dev.shiftaddvit.parity.TorchOps.tokensToMap;

/** timm's PyramidVisionTransformerV2 forward over parameters with timm's names. */
public record TorchPvtV2(PvtV2Config c, TorchParams params) implements TorchModel {
    @Override
    public NDArray forward(NDArray imagesNhwc) {
        NDArray map = imagesNhwc.transpose(0, 3, 1, 2);
        NDArray t = null;
        for (int s = 0; s < c.stages(); s++) {
            String embed = s == 0 ? "patch_embed" : "stages." + s + ".downsample";
            int kernel = s == 0 ? c.stemKernel() : 3;
            int stride = s == 0 ? c.stemStride() : 2;
            NDArray e = conv2d(map, params.get(embed + ".proj.weight"), params.get(embed + ".proj.bias"), stride,
                    kernel / 2, 1);
            int grid = c.grid(s);
            if (e.getShape().get(2) != grid) {
                throw new IllegalStateException("stage " + s + ": reference grid " + e.getShape() + " vs config " + grid);
            }
            t = layerNorm(params, embed + ".norm", mapToTokens(e), 1e-5f);
            for (int j = 0; j < c.depths()[s]; j++) {
                t = TorchBlocks.pvtBlock(params, "stages." + s + ".blocks." + j, t, c.heads()[s], grid,
                        c.srRatios()[s]);
            }
            t = layerNorm(params, "stages." + s + ".norm", t, 1e-6f);
            map = tokensToMap(t, grid, grid);
        }
        return linear(params, "head", t.mean(new int[]{1}));
    }
}
