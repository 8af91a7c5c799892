package dev.shiftaddvit.model;

import dev.shiftaddvit.nn.Block;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The blocks of a pyramid model's stages, as {@link Model#blocks()} and {@link Model#attentionGroups()} see them. */
final class StagedBlocks {
    private StagedBlocks() {
    }

    /** Every block, stage by stage (read-only). */
    static List<Block> all(List<List<Block>> stages) {
        List<Block> all = new ArrayList<>();
        for (List<Block> s : stages) all.addAll(s);
        return Collections.unmodifiableList(all);
    }

    /** The stage index of every block, in {@link #all} order. */
    static int[] groups(List<List<Block>> stages) {
        int[] g = new int[stages.stream().mapToInt(List::size).sum()];
        int i = 0;
        for (int s = 0; s < stages.size(); s++) for (int j = 0; j < stages.get(s).size(); j++) g[i++] = s;
        return g;
    }
}
