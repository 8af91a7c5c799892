package dev.shiftaddvit.cli;

import dev.shiftaddvit.checkpoint.Checkpoints;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.Reparam;
import dev.shiftaddvit.shiftadd.AddAttention;
import dev.shiftaddvit.shiftadd.MoeLinear;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CostCommandTest extends ConsoleCapture {
    /** A dense tiny model and its conversion (sign-code attention in stage 0, MoE everywhere). */
    private static Path[] pair(Path dir) throws Exception {
        Path dense = dir.resolve("dense.safetensors");
        Checkpoints.save(dense, tiny(), null, Map.of());
        Model m = tiny();
        SplittableRandom rng = new SplittableRandom(2);
        Reparam.toAddAttention(m, new Reparam.AttnOptions(Set.of(), true,
                AddAttention.Options.DEFAULT.withCodes(AddAttention.CodeKind.SIGN), AddAttention.QkInit.QUERY), rng);
        Reparam.toMoe(m, new Reparam.MoeOptions(true, true, MoeLinear.DEFAULT_MODE, 0f, new float[]{0.5f, 0.5f}, 1),
                rng);
        Path converted = dir.resolve("shiftadd.safetensors");
        Checkpoints.save(converted, m, null, Map.of());
        return new Path[]{dense, converted};
    }

    private static double number(Map<String, Object> o, String key) {
        return ((Number) o.get(key)).doubleValue();
    }

    @Test
    void jsonTotalsAreTheSumOfTheKindsAndPriceEachOperation() {
        assertEquals(0, Main.run("cost", "--model", "pvt_v2_fmnist", "--limit", "3", "--json"), err.toString());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        assertEquals(3L, ((Number) o.get("images")).longValue());
        Map<String, Object> total = Json.asObject(o.get("total"), "total", "stdout");
        double mults = 0;
        for (Object k : Json.asObject(o.get("by_kind"), "by_kind", "stdout").values()) {
            mults += number(Json.asObject(k, "kind", "stdout"), "mults");
        }
        assertEquals(number(total, "mults"), mults, 1e-6 * mults);
        double energy = 3.7 * number(total, "mults") + 0.9 * number(total, "adds") + 0.13 * number(total, "shifts");
        assertEquals(energy, number(total, "energy_pj"), 1e-6 * energy);
        assertEquals(number(total, "fp32_bytes"), number(total, "packed_bytes"));
    }

    @Test
    void convertedModelIsComparedWithItsParent(@TempDir Path dir) throws Exception {
        Path[] p = pair(dir);
        assertEquals(0, Main.run("cost", "--model", p[1].toString(), "--baseline", p[0].toString(), "--limit", "4",
                "--json"), err.toString());
        Map<String, Object> o = Json.parseObject(stdout().trim(), "stdout");
        Map<String, Object> c = Json.asObject(o.get("converted_vs_baseline"), "converted", "stdout");
        Map<String, Object> conv = Json.asObject(c.get("converted"), "converted", "stdout");
        assertTrue(number(conv, "shifts") > 0);
        double share = number(Json.asObject(o.get("total"), "total", "stdout"), "shift_token_share");
        assertTrue(share >= 0 && share <= 1);
        // both experts are kept, so the converted layers hold more bytes than their parents
        assertTrue(number(c, "packed_bytes_ratio") < 1);
        assertTrue(number(c, "shift_only_bytes_ratio") > 1);

        out.reset();
        assertEquals(0, Main.run("cost", "--model", p[1].toString(), "--baseline", p[0].toString(), "--limit", "4"));
        String text = stdout();
        assertTrue(text.contains("converted layers (") && text.contains("Shift expert") && text.contains("vs baseline"),
                text);
    }

    @Test
    void badImageCountIsBadInput() {
        assertEquals(2, Main.run("cost", "--model", "pvt_v2_fmnist", "--limit", "0"));
        assertTrue(err.toString().contains("--limit must be in [1, 1000], got 0"), err.toString());
        assertEquals(2, Main.run("cost", "--model", "no-such-model.safetensors"));
    }
}
