package dev.shiftaddvit.model;

import dev.shiftaddvit.kernel.TokenPool;
import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.Conv2d;
import dev.shiftaddvit.nn.LayerNorm;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Mlp;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** PVTv2 with timm's parameter names (patch_embed, stages.s.{downsample, blocks.j, norm}, head). */
public final class PvtV2 extends ReparamRecord {
    private final PvtV2Config config;
    private final List<Stage> stages = new ArrayList<>();
    private final Linear head;
    private int batch;

    /** One resolution level: patch embedding conv + norm, blocks, final norm. */
    record Stage(Conv2d embed, LayerNorm embedNorm, List<Block> blocks, LayerNorm norm, int grid, int dim) {
    }

    PvtV2(PvtV2Config c, SplittableRandom rng) {
        this.config = c;
        int prev = c.inChans();
        for (int s = 0; s < c.stages(); s++) {
            int d = c.embedDims()[s];
            int g = c.grid(s);
            String embedName = s == 0 ? "patch_embed" : "stages." + s + ".downsample";
            Conv2d conv = s == 0
                    ? new Conv2d(embedName + ".proj", prev, d, c.stemKernel(), c.stemStride(), c.stemKernel() / 2, rng)
                    .withoutInputGrad()
                    : new Conv2d(embedName + ".proj", prev, d, 3, 2, 1, rng);
            LayerNorm embedNorm = new LayerNorm(embedName + ".norm", d, 1e-5f);
            List<Block> blocks = new ArrayList<>();
            for (int j = 0; j < c.depths()[s]; j++) {
                String p = "stages." + s + ".blocks." + j;
                blocks.add(new Block(new LayerNorm(p + ".norm1", d, 1e-6f),
                        new SpatialReductionAttention(p + ".attn", d, c.heads()[s], g, g, c.srRatios()[s],
                                c.qkvBias(), rng),
                        new LayerNorm(p + ".norm2", d, 1e-6f),
                        new Mlp(p + ".mlp", d, d * c.mlpRatios()[s], g, g, rng)));
            }
            stages.add(new Stage(conv, embedNorm, blocks, new LayerNorm("stages." + s + ".norm", d, 1e-6f), g, d));
            prev = d;
        }
        this.head = new Linear("head", prev, c.numClasses(), true, rng);
    }

    @Override
    public PvtV2Config config() {
        return config;
    }

    @Override
    public List<List<Block>> blockGroups() {
        return stages.stream().map(Stage::blocks).toList();
    }

    @Override
    public Tensor forward(Tensor images, boolean training) {
        Model.requireImages(config, images);
        int b = images.dim(0);
        Tensor x = images;
        for (Stage st : stages) {
            Tensor e = st.embed().forward(x, training);
            Tensor t = st.embedNorm().forward(e.reshape(b, st.grid() * st.grid(), st.dim()), training);
            for (Block blk : st.blocks()) t = blk.forward(t, training);
            t = st.norm().forward(t, training);
            x = t.reshape(b, st.grid(), st.grid(), st.dim());
        }
        Stage last = stages.getLast();
        Tensor pooled = Tensor.zeros(b, last.dim());
        TokenPool.meanForward(x.data(), b, last.grid() * last.grid(), last.dim(), pooled.data());
        batch = b;
        return head.forward(pooled, training);
    }

    @Override
    public Tensor backward(Tensor dlogits) {
        int b = batch;
        Stage last = stages.getLast();
        Tensor dp = head.backward(dlogits);
        Tensor dt = Tensor.zeros(b, last.grid() * last.grid(), last.dim());
        TokenPool.meanBackward(dp.data(), b, last.grid() * last.grid(), last.dim(), dt.data());
        for (int s = stages.size() - 1; s >= 0; s--) {
            Stage st = stages.get(s);
            dt = st.norm().backward(dt);
            for (int j = st.blocks().size() - 1; j >= 0; j--) dt = st.blocks().get(j).backward(dt);
            dt = st.embedNorm().backward(dt);
            Tensor dx = st.embed().backward(dt.reshape(b, st.grid(), st.grid(), st.dim()));
            if (s > 0) {
                Stage prev = stages.get(s - 1);
                dt = dx.reshape(b, prev.grid() * prev.grid(), prev.dim());
            }
        }
        return null;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>();
        for (Stage st : stages) {
            p.addAll(st.embed().parameters());
            p.addAll(st.embedNorm().parameters());
            for (Block blk : st.blocks()) p.addAll(blk.parameters());
            p.addAll(st.norm().parameters());
        }
        p.addAll(head.parameters());
        return p;
    }
}
