package dev.shiftaddvit.cli.report;

import dev.shiftaddvit.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes a pipeline run's report into a directory: {@value #SUMMARY} (the data), {@value #REPORT}
 * (tables, fine-tune history, run information) and the PNG figures it links to. Every file is
 * written atomically, so a crash leaves each one either old or new, never half written.
 */
public final class PipelineReport {
    public static final String SUMMARY = "summary.json";
    public static final String REPORT = "report.md";

    private PipelineReport() {
    }

    /** Writes the summary, the figures and the Markdown report into {@code dir}, creating it if needed. */
    public static void write(Path dir, PipelineSummary s) throws IOException {
        AtomicFiles.createDirectories(dir);
        s.write(dir.resolve(SUMMARY));
        render(dir, s);
    }

    /** Writes the figures and the Markdown report, leaving {@value #SUMMARY} as it is. */
    public static void render(Path dir, PipelineSummary s) throws IOException {
        AtomicFiles.createDirectories(dir);
        AtomicFiles.writeBytes(dir.resolve(Plots.ACCURACY), Plots.accuracy(s));
        AtomicFiles.writeBytes(dir.resolve(Plots.THROUGHPUT), Plots.throughput(s));
        AtomicFiles.writeBytes(dir.resolve(Plots.ENERGY), Plots.energy(s));
        AtomicFiles.writeString(dir.resolve(REPORT), markdown(s)); // last: its image links then always resolve
    }

    /** The Markdown report; images are linked relative to the report's own directory. */
    public static String markdown(PipelineSummary s) {
        StageResult base = s.baseline();
        String vs = " vs " + base.stage();
        StringBuilder md = new StringBuilder();
        md.append("# ShiftAddViT pipeline report\n\n");
        md.append("Stages are listed in run order and compared with **").append(text(base.stage()))
                .append("**. Top-1 is measured on the test images listed under Stages.\n\n");

        md.append("## Accuracy and speed\n\n");
        table(md, List.of("Stage", "Top-1 (%)", "Δ top-1" + vs + " (pt)", "Images/s (batch 32)", "Speed" + vs,
                "Latency (ms, batch 1)"), "lrrrrr");
        for (StageResult st : s.stages()) {
            boolean isBase = st == base;
            row(md, text(st.stage()), Numbers.fixed(st.top1(), 2),
                    isBase ? "—" : Numbers.signed(st.top1() - base.top1(), 2, ""),
                    Numbers.fixed(st.imagesPerSecond(), 1),
                    isBase ? "—" : Numbers.ratio(st.imagesPerSecond(), base.imagesPerSecond()),
                    Numbers.fixed(st.latencyMs(), 2));
        }

        md.append("\n## Cost per image\n\n");
        table(md, List.of("Stage", "Mults", "Mults" + vs, "Adds", "Shifts", "Energy (µJ)", "Energy saving" + vs,
                "Weights (packed)", "Bytes" + vs, "Shift-token share"), "lrrrrrrrrr");
        int energyDecimals = Numbers.decimals(s.stages(), StageResult::energyMicrojoulesPerImage);
        for (StageResult st : s.stages()) {
            boolean isBase = st == base;
            row(md, text(st.stage()), Numbers.count(st.multsPerImage()),
                    isBase ? "—" : Numbers.ratio(st.multsPerImage(), base.multsPerImage()),
                    Numbers.count(st.addsPerImage()), Numbers.count(st.shiftsPerImage()),
                    Numbers.fixed(st.energyMicrojoulesPerImage(), energyDecimals),
                    isBase ? "—" : Numbers.saving(st.energyMicrojoulesPerImage(), base.energyMicrojoulesPerImage()),
                    Numbers.bytes(st.weightBytes()),
                    isBase ? "—" : Numbers.ratio(st.weightBytes(), base.weightBytes()),
                    Double.isNaN(st.shiftTokenShare()) ? "—" : Numbers.fixed(100 * st.shiftTokenShare(), 1) + " %");
        }
        md.append("\nEnergy is the modelled compute energy of the multiplications, additions and shifts of one "
                + "image; the shift-token share is the fraction of tokens the mixture of experts routed to its shift "
                + "expert.\n");

        md.append("\n## Figures\n\n");
        md.append("![Top-1 accuracy per stage](").append(Plots.ACCURACY).append(")\n\n");
        md.append("![Throughput and latency per stage](").append(Plots.THROUGHPUT).append(")\n\n");
        md.append("![Energy and operations per image](").append(Plots.ENERGY).append(")\n");

        md.append("\n## Stages\n\n");
        table(md, List.of("Stage", "Model file", "Test images", "Fine-tune epochs", "Training (min)"), "llrrr");
        for (StageResult st : s.stages()) {
            row(md, text(st.stage()), text(st.modelFile()), Integer.toString(st.evalImages()),
                    Integer.toString(st.epochs()), Numbers.fixed(st.trainMinutes(), 1));
        }

        md.append("\n## Fine-tuning history\n");
        if (!s.hasHistory()) md.append("\nNo stage recorded a fine-tune curve.\n");
        for (StageResult st : s.stages()) {
            if (st.history().isEmpty()) continue;
            md.append("\n### ").append(text(st.stage())).append("\n\n");
            table(md, List.of("Epoch", "Train loss", "Train accuracy (%)", "Test top-1 (%)"), "rrrr");
            for (EpochPoint p : st.history()) {
                row(md, Integer.toString(p.epoch()), Numbers.fixed(p.trainLoss(), 4), Numbers.fixed(p.trainAcc(), 2),
                        Numbers.fixed(p.testTop1(), 2));
            }
        }

        md.append("\n## Run information\n\n");
        if (s.info().isEmpty()) {
            md.append("None recorded.\n");
        } else {
            table(md, List.of("Key", "Value"), "ll");
            for (Map.Entry<String, String> e : s.info().entrySet()) row(md, text(e.getKey()), text(e.getValue()));
        }
        return md.toString();
    }

    /** A table header; {@code align} holds 'l' or 'r' per column. */
    private static void table(StringBuilder md, List<String> headers, String align) {
        row(md, headers.toArray(String[]::new));
        String[] rule = new String[headers.size()];
        for (int i = 0; i < rule.length; i++) rule[i] = align.charAt(i) == 'r' ? "--:" : ":--";
        row(md, rule);
    }

    private static void row(StringBuilder md, String... cells) {
        md.append('|');
        for (String c : cells) md.append(' ').append(c).append(" |");
        md.append('\n');
    }

    /** Free text made safe for a table cell: Markdown punctuation escaped, line breaks flattened. */
    private static String text(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r' || c == '\n') {
                out.append(' ');
            } else {
                if ("\\`*_[]<>|#".indexOf(c) >= 0) out.append('\\');
                out.append(c);
            }
        }
        return out.toString();
    }
}
