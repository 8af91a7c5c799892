package dev.shiftaddvit.model;

import dev.shiftaddvit.kernel.Ops;
import dev.shiftaddvit.nn.Block;
import dev.shiftaddvit.nn.Conv2d;
import dev.shiftaddvit.nn.Init;
import dev.shiftaddvit.nn.LayerNorm;
import dev.shiftaddvit.nn.Linear;
import dev.shiftaddvit.nn.Mlp;
import dev.shiftaddvit.nn.Parameter;
import dev.shiftaddvit.nn.SpatialReductionAttention;
import dev.shiftaddvit.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * PVTv1 with the official whai362/PVT parameter names (patch_embed{s}.{proj,norm}, pos_embed{s},
 * block{s}.{j}.*, norm, cls_token, head; s = 1..4), so the original checkpoints load as they are.
 */
public final class PvtV1 extends ReparamRecord {
    private final PvtV1Config config;
    private final List<Stage> stages = new ArrayList<>();
    private final LayerNorm norm;
    private final Parameter clsToken;
    private final Linear head;
    private int batch;

    /** One resolution level: patch embedding conv + norm, position embedding [1, tokens, dim], blocks. */
    record Stage(Conv2d embed, LayerNorm embedNorm, Parameter pos, List<Block> blocks, int grid, int dim) {
    }

    PvtV1(PvtV1Config c, SplittableRandom rng) {
        this.config = c;
        int prev = c.inChans();
        for (int s = 0; s < c.stages(); s++) {
            int d = c.embedDims()[s];
            int g = c.grid(s);
            int k = s == 0 ? c.patchSize() : 2;
            String embed = "patch_embed" + (s + 1);
            Conv2d conv = new Conv2d(embed + ".proj", prev, d, k, k, 0, rng);
            if (s == 0) conv.withoutInputGrad();
            // Upstream exempts only the class token from weight decay; the position embeddings decay.
            Parameter pos = new Parameter("pos_embed" + (s + 1), Tensor.zeros(1, c.tokens(s), d), true);
            Init.truncNormal(pos.value().data(), 0.02f, rng);
            List<Block> blocks = new ArrayList<>();
            for (int j = 0; j < c.depths()[s]; j++) {
                String p = "block" + (s + 1) + "." + j;
                blocks.add(new Block(new LayerNorm(p + ".norm1", d, 1e-6f),
                        new SpatialReductionAttention(p + ".attn", d, c.heads()[s], g, g, c.srRatios()[s],
                                c.qkvBias(), rng),
                        new LayerNorm(p + ".norm2", d, 1e-6f),
                        new Mlp(p + ".mlp", d, d * c.mlpRatios()[s], 0, 0, rng)));
            }
            stages.add(new Stage(conv, new LayerNorm(embed + ".norm", d, 1e-5f), pos, blocks, g, d));
            prev = d;
        }
        this.norm = new LayerNorm("norm", prev, 1e-6f);
        this.clsToken = new Parameter("cls_token", Tensor.zeros(1, 1, prev), false);
        Init.truncNormal(clsToken.value().data(), 0.02f, rng);
        this.head = new Linear("head", prev, c.numClasses(), true, rng);
    }

    @Override
    public PvtV1Config config() {
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
        Tensor t = null;
        for (int s = 0; s < stages.size(); s++) {
            Stage st = stages.get(s);
            int g2 = st.grid() * st.grid();
            Tensor e = st.embed().forward(x, training);
            t = st.embedNorm().forward(e.reshape(b, g2, st.dim()), training);
            boolean last = s == stages.size() - 1;
            if (last) t = prependClassToken(t, b, g2, st.dim());
            int n = t.dim(1);
            float[] pos = st.pos().value().data();
            for (int bi = 0; bi < b; bi++) Ops.addInPlace(t.data(), bi * n * st.dim(), pos, 0, n * st.dim());
            for (Block blk : st.blocks()) t = blk.forward(t, training);
            if (!last) x = t.reshape(b, st.grid(), st.grid(), st.dim());
        }
        Tensor y = norm.forward(t, training);
        int d = stages.getLast().dim();
        int n = y.dim(1);
        Tensor cls = Tensor.zeros(b, d);
        for (int bi = 0; bi < b; bi++) System.arraycopy(y.data(), bi * n * d, cls.data(), bi * d, d);
        batch = b;
        return head.forward(cls, training);
    }

    /** [B, g², D] → [B, 1 + g², D] with the class token in row 0, as upstream concatenates before adding pos_embed4. */
    private Tensor prependClassToken(Tensor t, int b, int g2, int d) {
        Tensor out = Tensor.zeros(b, g2 + 1, d);
        for (int bi = 0; bi < b; bi++) {
            int row = bi * (g2 + 1) * d;
            System.arraycopy(clsToken.value().data(), 0, out.data(), row, d);
            System.arraycopy(t.data(), bi * g2 * d, out.data(), row + d, g2 * d);
        }
        return out;
    }

    @Override
    public Tensor backward(Tensor dlogits) {
        int b = batch;
        Stage last = stages.getLast();
        int d = last.dim();
        int n = last.grid() * last.grid() + 1;
        float[] dcls = head.backward(dlogits).data();
        Tensor dt = Tensor.zeros(b, n, d);
        for (int bi = 0; bi < b; bi++) System.arraycopy(dcls, bi * d, dt.data(), bi * n * d, d);
        dt = norm.backward(dt);
        for (int s = stages.size() - 1; s >= 0; s--) {
            Stage st = stages.get(s);
            for (int j = st.blocks().size() - 1; j >= 0; j--) dt = st.blocks().get(j).backward(dt);
            int tokens = dt.dim(1);
            float[] dpos = st.pos().grad().data();
            for (int bi = 0; bi < b; bi++) Ops.addInPlace(dpos, 0, dt.data(), bi * tokens * st.dim(), tokens * st.dim());
            int g2 = st.grid() * st.grid();
            if (s == stages.size() - 1) dt = stripClassToken(dt, b, g2, st.dim());
            dt = st.embedNorm().backward(dt);
            Tensor dx = st.embed().backward(dt.reshape(b, st.grid(), st.grid(), st.dim()));
            if (s > 0) {
                Stage prev = stages.get(s - 1);
                dt = dx.reshape(b, prev.grid() * prev.grid(), prev.dim());
            }
        }
        return null;
    }

    /** Accumulates row 0 of every image into the class token's gradient and returns the patch rows. */
    private Tensor stripClassToken(Tensor dt, int b, int g2, int d) {
        Tensor out = Tensor.zeros(b, g2, d);
        float[] dcls = clsToken.grad().data();
        for (int bi = 0; bi < b; bi++) {
            int row = bi * (g2 + 1) * d;
            Ops.addInPlace(dcls, 0, dt.data(), row, d);
            System.arraycopy(dt.data(), row + d, out.data(), bi * g2 * d, g2 * d);
        }
        return out;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> p = new ArrayList<>();
        for (Stage st : stages) {
            p.addAll(st.embed().parameters());
            p.addAll(st.embedNorm().parameters());
            p.add(st.pos());
            for (Block blk : st.blocks()) p.addAll(blk.parameters());
        }
        p.addAll(norm.parameters());
        p.add(clsToken);
        p.addAll(head.parameters());
        return p;
    }
}
