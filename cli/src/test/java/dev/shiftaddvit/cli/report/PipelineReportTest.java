package dev.shiftaddvit.cli.report;

import dev.shiftaddvit.io.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PipelineReportTest {
    /** Round numbers so the expected ratios can be worked out by hand. */
    static PipelineSummary sample() {
        List<EpochPoint> attnCurve = List.of(new EpochPoint(1, 0.61, 78.5, 86.2), new EpochPoint(2, 0.42, 84.0, 88.9),
                new EpochPoint(3, 0.35, 87.25, 89.75));
        List<EpochPoint> moeCurve = List.of(new EpochPoint(1, 0.48, 83.0, 88.1), new EpochPoint(2, 0.39, 86.5, 89.5));
        Map<String, String> info = new LinkedHashMap<>();
        info.put("machine", "2-core test box | JDK 25");
        info.put("date", "2025-01-02T03:04:05Z");
        info.put("command", "shiftaddvit pipeline --epochs 3");
        info.put("alpha", "stage1=0.286 stage2=0.353");
        return new PipelineSummary(List.of(
                new StageResult("dense", "runs/pipeline/dense.safetensors", 90.0, 10000, 100.0, 12.5,
                        1_000_000, 1_000_000, 0, 10.0, 4000, Double.NaN, 0, 0, List.of()),
                new StageResult("attn", "runs/pipeline/attn.safetensors", 89.75, 10000, 120.0, 10.0,
                        800_000, 1_100_000, 50_000, 8.5, 4000, Double.NaN, 3, 12.5, attnCurve),
                new StageResult("moe", "runs/pipeline/moe.safetensors", 89.5, 10000, 150.0, 9.0,
                        400_000, 1_200_000, 300_000, 6.0, 1000, 0.375, 2, 8.25, moeCurve)), info);
    }

    /** The cells of the table row that starts with {@code | stage |} under the given heading. */
    private static List<String> row(String md, String heading, String stage) {
        String section = md.substring(md.indexOf("## " + heading));
        String line = section.lines().filter(l -> l.startsWith("| " + stage + " |")).findFirst().orElseThrow();
        return Arrays.stream(line.substring(1, line.length() - 1).split("\\|")).map(String::trim).toList();
    }

    @Test
    void jsonRoundTripKeepsEverythingIncludingNanShareAndEmptyHistory(@TempDir Path dir) throws Exception {
        PipelineSummary s = sample();
        Path f = dir.resolve("summary.json");
        s.write(f);
        PipelineSummary back = PipelineSummary.read(f);
        assertEquals(s, back);
        assertTrue(Double.isNaN(back.stages().getFirst().shiftTokenShare()));
        assertTrue(back.stages().getFirst().history().isEmpty());
        assertEquals(List.copyOf(s.info().keySet()), List.copyOf(back.info().keySet()), "info keeps its order");
        assertTrue(Files.readString(f).contains("\"shift_token_share\": null"), "NaN is written as null");
    }

    @Test
    void jsonEscapesStringsThatNeedIt() {
        Map<String, String> info = Map.of("command", "say \"hi\"\\\n\ttab \u0001 é 😀");
        StageResult st = sample().stages().getFirst();
        PipelineSummary s = new PipelineSummary(List.of(st), info);
        assertEquals(s, PipelineSummary.fromJson(s.toJson(), "test"));
    }

    @Test
    void markdownHasEveryTop1AndTheRatiosAgainstDense() {
        String md = PipelineReport.markdown(sample());
        assertEquals(List.of("dense", "90.00", "—", "100.0", "—", "12.50"), row(md, "Accuracy and speed", "dense"));
        assertEquals(List.of("attn", "89.75", "-0.25", "120.0", "1.20×", "10.00"),
                row(md, "Accuracy and speed", "attn"));
        assertEquals(List.of("moe", "89.50", "-0.50", "150.0", "1.50×", "9.00"), row(md, "Accuracy and speed", "moe"));
        // Stage, Mults, Mults ratio, Adds, Shifts, Energy, Energy saving, Weights, Bytes ratio, Shift share
        assertEquals(List.of("moe", "400 k", "0.40×", "1.20 M", "300 k", "6.00", "40.0 %", "1000 B", "0.25×",
                "37.5 %"), row(md, "Cost per image", "moe"));
        assertEquals(List.of("attn", "800 k", "0.80×", "1.10 M", "50.0 k", "8.50", "15.0 %", "3.9 KiB", "1.00×",
                "—"), row(md, "Cost per image", "attn"));
        assertEquals(List.of("3", "0.3500", "87.25", "89.75"), row(md, "Fine-tuning history", "3"));
        for (String img : List.of("accuracy.png", "throughput.png", "energy.png")) {
            assertTrue(md.contains("](" + img + ")"), img + " is linked relatively");
        }
        assertTrue(md.contains("| machine | 2-core test box \\| JDK 25 |"), "info is listed with its pipe escaped");
    }

    @Test
    void ratiosFollowTheDenseStageWhereverItIs() {
        List<StageResult> st = sample().stages();
        String md = PipelineReport.markdown(new PipelineSummary(List.of(st.get(2), st.get(0)), Map.of()));
        assertEquals(List.of("moe", "89.50", "-0.50", "150.0", "1.50×", "9.00"), row(md, "Accuracy and speed", "moe"));
        assertTrue(md.contains("None recorded."));
    }

    @Test
    void writeCreatesMissingDirectoryWithReadablePlotsAndNoTempFiles(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("runs/pipeline");
        PipelineReport.write(dir, sample());
        Set<String> names;
        try (Stream<Path> files = Files.list(dir)) {
            names = files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
        assertEquals(Set.of("summary.json", "report.md", "accuracy.png", "throughput.png", "energy.png"), names);
        for (String png : List.of("accuracy.png", "throughput.png", "energy.png")) assertDrawn(dir.resolve(png), 2);
        assertEquals(sample(), PipelineSummary.read(dir.resolve("summary.json")));
        assertEquals(PipelineReport.markdown(sample()), Files.readString(dir.resolve("report.md")));
    }

    @Test
    void plotsWithoutAnyHistoryStillRender(@TempDir Path dir) throws Exception {
        StageResult only = sample().stages().getFirst();
        PipelineReport.write(dir, new PipelineSummary(List.of(only), Map.of()));
        assertDrawn(dir.resolve("accuracy.png"), 1);
        assertTrue(Files.readString(dir.resolve("report.md")).contains("No stage recorded a fine-tune curve."));
    }

    /**
     * Decodes at 800×480 on a white background, and each side-by-side panel holds a fair amount of
     * colour: bars and lines are coloured while text and grid are grey, so this fails when the data
     * marks go missing even though titles and axes are still there.
     */
    private static void assertDrawn(Path png, int panels) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " decodes");
        assertEquals(800, img.getWidth());
        assertEquals(480, img.getHeight());
        assertEquals(0xFFFFFF, img.getRGB(0, 0) & 0xFFFFFF, "white background");
        int[] coloured = new int[panels];
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                int r = p >> 16 & 0xFF, g = p >> 8 & 0xFF, b = p & 0xFF;
                if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) coloured[x * panels / 800]++;
            }
        }
        for (int i = 0; i < panels; i++) {
            assertTrue(coloured[i] > 800 * 480 / panels / 200, png + " panel " + i + ": " + coloured[i] + " pixels");
        }
    }

    @Test
    void truncatedOrInvalidSummaryNamesTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("summary.json");
        sample().write(f);
        byte[] full = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(full, full.length / 2));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> PipelineSummary.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());

        String good = new String(full, StandardCharsets.UTF_8);
        for (String bad : List.of("", "{\"format_version\": 1, \"stages\": [], \"info\": {}}",
                "{\"format_version\": 2, \"stages\": [], \"info\": {}}",
                good.replace("\"eval_images\": 10000", "\"eval_images\": -1"),
                good.replace("\"shift_token_share\": 0.375", "\"shift_token_share\": \"x\""),
                good.replace("\"history\": []", "\"histories\": []"))) {
            assertNotEquals(good, bad, "the replacement must change the text");
            Files.writeString(f, bad);
            InvalidInputException ex = assertThrows(InvalidInputException.class, () -> PipelineSummary.read(f), bad);
            assertEquals(f.toString(), ex.source());
        }
        Files.write(f, new byte[]{'{', (byte) 0xC3});
        assertEquals(f.toString(), assertThrows(InvalidInputException.class, () -> PipelineSummary.read(f)).source());
    }

    @Test
    void recordsRejectImpossibleValues() {
        StageResult d = sample().stages().getFirst();
        assertThrows(IllegalArgumentException.class, () -> new StageResult("moe", "m", 1, 1, 1, 1, 1, 1, 1, 1, 1,
                1.5, 0, 0, List.of()));
        assertThrows(IllegalArgumentException.class, () -> new PipelineSummary(List.of(d, d), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new PipelineSummary(List.of(), Map.of()));
    }
}
