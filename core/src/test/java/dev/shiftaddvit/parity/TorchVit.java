package dev.shiftaddvit.parity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.shiftaddvit.model.VitConfig;

import static dev.shiftaddvit.parity.TorchOps.conv2d;
import static dev.shiftaddvit.parity.TorchOps.layerNorm;
import static dev.shiftaddvit.parity.TorchOps.linear;
import static dev.shiftaddvit.parity.TorchOps.mapToTokens;

/** timm's VisionTransformer forward over parameters with timm's names. */
public record TorchVit(VitConfig c, TorchParams params) implements TorchModel {
    @Override
    public NDArray forward(NDArray imagesNhwc) {
        NDArray x = imagesNhwc.transpose(0, 3, 1, 2);
        NDArray t = mapToTokens(conv2d(x, params.get("patch_embed.proj.weight"), params.get("patch_embed.proj.bias"),
                c.patchSize(), 0, 1));
        long b = t.getShape().get(0);
        int d = c.embedDim();
        if (c.classToken()) {
            NDArray cls = t.getManager().zeros(new Shape(b, 1, d)).add(params.get("cls_token"));
            t = cls.concat(t, 1);
        }
        t = t.add(params.get("pos_embed"));
        for (int i = 0; i < c.depth(); i++) t = TorchBlocks.vitBlock(params, "blocks." + i, t, c.heads(), c.eps());
        t = layerNorm(params, "norm", t, c.eps());
        NDArray pooled = c.classToken() ? t.get(":, 0, :") : t.mean(new int[]{1});
        return linear(params, "head", pooled);
    }
}
