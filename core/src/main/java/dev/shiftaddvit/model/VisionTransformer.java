package dev.shiftaddvit.model;

import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.Conv2d;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.LayerNorm;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Mlp;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.SelfAttention;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** DeiT/ViT with timm's parameter names (patch_embed.proj, cls_token, pos_embed, blocks.i.*, norm, head). */
public final class VisionTransformer extends ReparamRecord {
    private final VitConfig config;
    private final Conv2d patchEmbed;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNorm norm;
    private final Linear head;
    private int batch;

    VisionTransformer(VitConfig c, SplittableRandom rng) {
        this.config = c;
        int d = c.embedDim();
        this.patchEmbed = new Conv2d("patch_embed.proj", c.inChans(), d, c.patchSize(), c.patchSize(), 0, rng)
                .withoutInputGrad();
        this.clsToken = c.classToken() ? new Parameter("cls_token", Tensor.zeros(1, 1, d), false) : null;
        if (clsToken != null) Init.truncNormal(clsToken.value().data(), 1e-6f, rng);
        this.posEmbed = new Parameter("pos_embed", Tensor.zeros(1, c.tokens(), d), false);
        Init.truncNormal(posEmbed.value().data(), 0.02f, rng);
        for (int i = 0; i < c.depth(); i++) {
            String p = "blocks." + i;
            blocks.add(new Block(new LayerNorm(p + ".norm1", d, c.eps()),
                    new SelfAttention(p + ".attn", d, c.heads(), c.qkvBias(), rng),
                    new LayerNorm(p + ".norm2", d, c.eps()),
                    new Mlp(p + ".mlp", d, c.mlpHidden(), 0, 0, rng)));
        }
        this.norm = new LayerNorm("norm", d, c.eps());
        this.head = new Linear("head", d, c.numClasses(), true, rng);
    }

    @Override
    public VitConfig config() {
        return config;
    }

    @Override
    public List<List<Block>> blockGroups() {
        return blocks.stream().map(List::of).toList();
    }

    @Override
    public Tensor forward(Tensor images, boolean training) {
        Model.requireImages(config, images);
        int b = images.dim(0);
        int d = config.embedDim();
        int g = config.gridSize() * config.gridSize();
        int n = config.tokens();
        int first = n - g;
        float[] patches = patchEmbed.forward(images, training).data();
        Tensor x = Tensor.zeros(b, n, d);
        float[] xd = x.data();
        float[] pos = posEmbed.value().data();
        for (int bi = 0; bi < b; bi++) {
            int row = bi * n * d;
            if (clsToken != null) System.arraycopy(clsToken.value().data(), 0, xd, row, d);
            System.arraycopy(patches, bi * g * d, xd, row + first * d, g * d);
            Ops.addInPlace(xd, row, pos, 0, n * d);
        }
        for (Block blk : blocks) x = blk.forward(x, training);
        x = norm.forward(x, training);
        Tensor pooled = Tensor.zeros(b, d);
        float[] xdn = x.data();
        float[] pd = pooled.data();
        for (int bi = 0; bi < b; bi++) {
            if (clsToken != null) {
                System.arraycopy(xdn, bi * n * d, pd, bi * d, d);
            } else {
                for (int t = 0; t < n; t++) Ops.addInPlace(pd, bi * d, xdn, (bi * n + t) * d, d);
                for (int j = 0; j < d; j++) pd[bi * d + j] /= n;
            }
        }
        batch = b;
        return head.forward(pooled, training);
    }

    @Override
    public Tensor backward(Tensor dlogits) {
        int b = batch;
        int d = config.embedDim();
        int n = config.tokens();
        int g = config.gridSize() * config.gridSize();
        float[] dp = head.backward(dlogits).data();
        Tensor dx = Tensor.zeros(b, n, d);
        float[] dxd = dx.data();
        for (int bi = 0; bi < b; bi++) {
            if (clsToken != null) {
                System.arraycopy(dp, bi * d, dxd, bi * n * d, d);
            } else {
                for (int t = 0; t < n; t++) {
                    for (int j = 0; j < d; j++) dxd[(bi * n + t) * d + j] = dp[bi * d + j] / n;
                }
            }
        }
        dx = norm.backward(dx);
        for (int i = blocks.size() - 1; i >= 0; i--) dx = blocks.get(i).backward(dx);
        float[] dd = dx.data();
        float[] dpos = posEmbed.grad().data();
        Tensor dpatch = Tensor.zeros(b, config.gridSize(), config.gridSize(), d);
        int first = n - g;
        for (int bi = 0; bi < b; bi++) {
            Ops.addInPlace(dpos, 0, dd, bi * n * d, n * d);
            if (clsToken != null) Ops.addInPlace(clsToken.grad().data(), 0, dd, bi * n * d, d);
            System.arraycopy(dd, (bi * n + first) * d, dpatch.data(), bi * g * d, g * d);
        }
        patchEmbed.backward(dpatch);
        return null;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>(patchEmbed.parameters());
        if (clsToken != null) p.add(clsToken);
        p.add(posEmbed);
        for (Block blk : blocks) p.addAll(blk.parameters());
        p.addAll(norm.parameters());
        p.addAll(head.parameters());
        return p;
    }
}
