package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.shiftaddvit.model.PvtV1Config;

import static dev.shiftaddvit.parity.TorchOps.conv2d;
import static dev.shiftaddvit.parity.TorchOps.layerNorm;
import static dev.shiftaddvit.parity.TorchOps.linear;
import static dev.shiftaddvit.parity.TorchOps.mapToTokens;
import static dev.shiftaddvit.parity.TorchOps.tokensToMap;

/** The official whai362/PVT PyramidVisionTransformer (v1) forward over parameters with its names. */
public record TorchPvtV1(PvtV1Config c, TorchParams params) implements TorchModel {
    @Override
    public NDArray forward(NDArray imagesNhwc) {
        NDArray map = imagesNhwc.transpose(0, 3, 1, 2);
        NDArray t = null;
        for (int s = 0; s < c.stages(); s++) {
            String embed = "patch_embed" + (s + 1);
            int k = s == 0 ? c.patchSize() : 2;
            NDArray e = conv2d(map, params.get(embed + ".proj.weight"), params.get(embed + ".proj.bias"), k, 0, 1);
            int grid = c.grid(s);
            if (e.getShape().get(2) != grid) {
                throw new IllegalStateException("stage " + s + ": reference grid " + e.getShape() + " vs config " + grid);
            }
            t = layerNorm(params, embed + ".norm", mapToTokens(e), 1e-5f);
            if (s == c.stages() - 1) {
                NDArray cls = t.getManager().zeros(new Shape(t.getShape().get(0), 1, c.embedDims()[s]))
                        .add(params.get("cls_token"));
                t = cls.concat(t, 1);
            }
            t = t.add(params.get("pos_embed" + (s + 1)));
            for (int j = 0; j < c.depths()[s]; j++) {
                String b = "block" + (s + 1) + "." + j;
                NDArray a = t.add(TorchBlocks.spatialReductionAttention(params, b + ".attn",
                        layerNorm(params, b + ".norm1", t, 1e-6f), c.heads()[s], grid, c.srRatios()[s]));
                t = a.add(TorchBlocks.mlp(params, b + ".mlp", layerNorm(params, b + ".norm2", a, 1e-6f), 0));
            }
            if (s < c.stages() - 1) map = tokensToMap(t, grid, grid);
        }
        return linear(params, "head", layerNorm(params, "norm", t, 1e-6f).get(":, 0, :"));
    }
}
